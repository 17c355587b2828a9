import type { ScopeInput } from '../schemas/index.js';

// A realistic ops-agent scope shared by rule tests and scenarios: GitHub within the org,
// Kubernetes staging, the production database read-only except approved deletes, CI secrets,
// a work directory, and egress to GitHub and the company's own hosts.
export const OPS_SCOPE: ScopeInput = {
  allow: [
    { tools: ['github.*'], operations: ['read', 'write'], resources: ['github:acme/**'] },
    { tools: ['k8s.*'], operations: ['read', 'delete'], resources: ['k8s:staging/**'] },
    { tools: ['http.post', 'mail.send', 'slack.post'], operations: ['write', 'transfer'] },
    { tools: ['db.query'], operations: ['read'], resources: ['db:prod/**'] },
    { tools: ['db.admin'], operations: ['delete'], resources: ['db:prod/**'] },
    { tools: ['vault.read'], operations: ['read'], resources: ['vault:kv/ci/**'] },
    { tools: ['fs.*'], operations: ['read', 'write', 'delete'], resources: ['/work/**'] },
  ],
  deny: [{ tools: ['github.*'], operations: ['write'], resources: ['github:acme/secrets-*'] }],
  egress: ['api.github.com', '*.acme.example'],
  data_classes: ['internal', 'secret'],
  approvals: {
    required_for: [{ operations: ['delete'], resources: ['db:prod/**', 'k8s:**'] }],
    approvers: ['alice@acme.example', 'group:sre/*'],
  },
  limits: { max_actions: 40 },
};
