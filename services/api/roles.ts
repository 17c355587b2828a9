import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgentTrailError } from '../platform/errors.js';

// Who may do what in the query API. Keys carry one role; a higher role includes the lower ones.
//   analyst   — read: histories, timelines, resources, alerts, exports
//   responder — analyst + acknowledge and resolve alerts
//   admin     — responder + manage keys, reload rules
// Collector (intake) keys have no role and are never valid here; API keys never at the gateway.

export const ROLES = ['analyst', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { analyst: 0, responder: 1, admin: 2 };

/** The caller of an API request, set by the auth plugin (plugins/auth.ts) before any handler. */
export interface ApiPrincipal {
  keyId: string;
  tenant: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API's auth hook; null before it ran. */
    apiPrincipal: ApiPrincipal | null;
  }
  interface FastifyContextConfig {
    /** The least role a route needs (checked by the auth plugin; default analyst). */
    role?: Role;
  }
}

export function hasRole(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** The principal of an authenticated request, with at least `need`; 403 otherwise. */
export function principalWith(req: FastifyRequest, need: Role = 'analyst'): ApiPrincipal {
  const p = req.apiPrincipal;
  if (!p) throw new AgentTrailError('AT_ERR_AUTH_MISSING', 'send an API key as Authorization: Bearer <key>');
  if (!hasRole(p.role, need))
    throw new AgentTrailError('AT_ERR_AUTH_FORBIDDEN', `this needs the ${need} role; the key has ${p.role}`);
  return p;
}

export type RoleGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
