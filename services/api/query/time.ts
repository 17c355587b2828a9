import { AgentTrailError } from '../../platform/errors.js';

// Time parameters, checked here rather than by ClickHouse: a value it cannot parse would be a
// ClickHouse error, and none of those reach a client. Normalised to UTC milliseconds.

function normalise(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms) || ms < 0 || ms > Date.parse('9999-12-31T23:59:59.999Z')) {
    throw new AgentTrailError('AT_ERR_BAD_REQUEST', `${name}: not a usable ISO-8601 time`);
  }
  return new Date(ms).toISOString();
}

export function timeRange(q: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = normalise('from', q.from);
  const to = normalise('to', q.to);
  if (from && to && from >= to) throw new AgentTrailError('AT_ERR_BAD_REQUEST', 'from must be before to');
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}
