import type { FastifyPluginAsync } from 'fastify';
import { AgentTrailError } from '../../platform/errors.js';
import {
  createKey,
  KEY_ROLES,
  type KeyKind,
  type KeyRecord,
  type KeyRole,
  kindOf,
  readKeysFile,
  revokeKey,
} from '../../platform/keys/index.js';
import { errorBody } from '../query/params.js';
import { principalWith } from '../roles.js';

// Key management for a tenant's admin: list, create and revoke the tenant's keys, the same
// records `agenttrail keys` writes (platform/keys). API keys always; collector (intake) keys
// when the API is given the gateway's keys file. Both services reload their file on change, so a
// key created or revoked here applies within seconds. An admin sees and touches only its own
// tenant's keys: another tenant's key id is the same 404 as one that does not exist.

export interface KeysRouteOptions {
  apiKeysFile: string;
  /** The gateway's keys file (API_COLLECTOR_KEYS_FILE); unset: collector keys are not managed here. */
  collectorKeysFile?: string;
}

const keyView = {
  type: 'object',
  required: ['id', 'kind', 'tenant', 'created_at'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['api', 'collector'] },
    tenant: { type: 'string' },
    role: { type: 'string', enum: [...KEY_ROLES] },
    label: { type: 'string' },
    created_at: { type: 'string' },
    revoked_at: { type: 'string' },
  },
} as const;

const view = (r: KeyRecord) => ({ ...r, kind: kindOf(r), sha256: undefined });

export const keysRoutes: FastifyPluginAsync<KeysRouteOptions> = async (app, opts) => {
  const files = (): Array<[KeyKind, string]> => [
    ['api', opts.apiKeysFile],
    ...(opts.collectorKeysFile ? [['collector', opts.collectorKeysFile] as [KeyKind, string]] : []),
  ];

  app.get(
    '/v1/admin/keys',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          "The tenant's keys: API keys and, when managed here, collector keys (never the keys themselves)",
        tags: ['admin'],
        response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keyView } } } },
      },
    },
    async (req) => {
      const p = principalWith(req, 'admin');
      const keys = files().flatMap(([, path]) =>
        readKeysFile(path).keys.filter((k) => k.tenant === p.tenant),
      );
      return { keys: keys.map(view) };
    },
  );

  app.post<{ Body: { kind?: KeyKind; role?: KeyRole; label?: string } }>(
    '/v1/admin/keys',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create a key for this tenant; the key is in this answer only (it is stored hashed)',
        tags: ['admin'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: ['api', 'collector'], default: 'api' },
            role: { type: 'string', enum: [...KEY_ROLES], description: 'Required for an API key' },
            label: { type: 'string', minLength: 1, maxLength: 256 },
          },
          examples: [{ kind: 'api', role: 'analyst', label: 'created by the API' }],
        },
        response: {
          201: { type: 'object', properties: { key: { type: 'string' }, record: keyView } },
          400: errorBody,
        },
      },
    },
    async (req, reply) => {
      const p = principalWith(req, 'admin');
      const kind = req.body.kind ?? 'api';
      const path = files().find(([k]) => k === kind)?.[1];
      if (!path)
        throw new AgentTrailError(
          'AT_ERR_BAD_REQUEST',
          'collector keys are not managed by this API (API_COLLECTOR_KEYS_FILE is unset)',
        );
      if (kind === 'api' && !req.body.role)
        throw new AgentTrailError(
          'AT_ERR_BAD_REQUEST',
          'an API key needs a role: analyst, responder or admin',
        );
      if (kind === 'collector' && req.body.role)
        throw new AgentTrailError('AT_ERR_BAD_REQUEST', 'a collector key has no role');
      const label = req.body.label ?? `created by key ${p.keyId}`;
      const minted = createKey(path, p.tenant, label, kind === 'api' ? req.body.role : undefined);
      reply.code(201);
      return { key: minted.key, record: view(minted.record) };
    },
  );

  app.post<{ Params: { key_id: string } }>(
    '/v1/admin/keys/:key_id/revoke',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke a key of this tenant (the record stays, with revoked_at); idempotent',
        tags: ['admin'],
        params: {
          type: 'object',
          required: ['key_id'],
          properties: { key_id: { type: 'string', pattern: '^[0-9a-f]{12}$' } },
        },
        response: {
          200: { type: 'object', properties: { record: keyView, already_revoked: { type: 'boolean' } } },
          404: errorBody,
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'admin');
      for (const [, path] of files()) {
        const rec = readKeysFile(path).keys.find((k) => k.id === req.params.key_id);
        if (!rec || rec.tenant !== p.tenant) continue;
        const { record, alreadyRevoked } = revokeKey(path, rec.id);
        return { record: view(record), already_revoked: alreadyRevoked };
      }
      throw new AgentTrailError('AT_ERR_NOT_FOUND', `no key ${req.params.key_id}`);
    },
  );
};
