// How every AgentTrail HTTP service is authenticated, as OpenAPI 3.1 says it: an API key as a
// Bearer token or in X-API-Key (HTTP Basic with the key as password also works, for browsers).
export const OPENAPI_SECURITY = {
  components: {
    securitySchemes: {
      apiKey: { type: 'http', scheme: 'bearer' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    },
  },
  security: [{ apiKey: [] }, { apiKeyHeader: [] }],
} as const;
