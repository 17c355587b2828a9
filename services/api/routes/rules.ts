import type { FastifyPluginAsync } from 'fastify';
import { AgentTrailError } from '../../platform/errors.js';
import { errorBody } from '../query/params.js';
import { principalWith } from '../roles.js';

// Rules reload for an admin: the detector reloads its rules files (as on a file change or
// SIGHUP) when its admin endpoint is asked, and keeps the running rules if the new set does not
// load. Rules are the deployment's, not a tenant's: a reload reads the operator's files again and
// shows no tenant anything.

export interface RulesReloadAnswer {
  applied: boolean;
  errors?: Array<{ code: string; file: string; line?: number; message: string }>;
}

/** Asks the detector (main.ts: POST <DETECTOR admin URL>/admin/rules-reload with its token). */
export type ReloadRules = () => Promise<RulesReloadAnswer>;

export function detectorRulesReload(url: string, token: string, timeoutMs = 10_000): ReloadRules {
  return async () => {
    let res: Response;
    try {
      res = await fetch(`${url.replace(/\/+$/, '')}/admin/rules-reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AgentTrailError(
        'AT_ERR_DETECTOR_UNAVAILABLE',
        'the detector did not answer the rules reload',
        {
          cause: err,
        },
      );
    }
    if (res.status === 200 || res.status === 422) return (await res.json()) as RulesReloadAnswer;
    throw new AgentTrailError(
      'AT_ERR_DETECTOR_UNAVAILABLE',
      `the detector answered the rules reload with ${res.status} (check API_DETECTOR_ADMIN_TOKEN)`,
    );
  };
}

export const rulesRoutes: FastifyPluginAsync<{ reload: ReloadRules }> = async (app, opts) => {
  app.post(
    '/v1/admin/rules/reload',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'Have the detector reload its rules files now (a set that does not load is refused, the running rules stay)',
        tags: ['admin'],
        response: {
          200: {
            type: 'object',
            properties: {
              applied: { type: 'boolean' },
              errors: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    code: { type: 'string' },
                    file: { type: 'string' },
                    line: { type: 'integer' },
                    message: { type: 'string' },
                  },
                },
              },
            },
          },
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      principalWith(req, 'admin');
      const answer = await opts.reload();
      if (!answer.applied) {
        reply.code(422);
        return {
          code: 'AT_ERR_RULES_INVALID',
          message: `the rules files did not load; the running rules stay: ${(answer.errors ?? [])
            .map((e) => `${e.code} ${e.file}:${e.line ?? '?'} ${e.message}`)
            .join('; ')
            .slice(0, 2000)}`,
        };
      }
      return answer;
    },
  );
};
