import { TaskDeclaration } from './config.js';
import { taskInvalid } from './errors.js';

// The client's way to declare its task: a `_meta` entry on a tools/call request (MCP reserves
// `_meta` for exactly this kind of out-of-band data). The proxy strips it before forwarding.
//
//   {"method":"tools/call","params":{"name":"read_file","arguments":{…},
//     "_meta":{"agenttrail/task":{"intent":"…","scope":{"allow":[…]}}}}}

export const TASK_META_KEY = 'agenttrail/task';

/** The declaration carried by a request's `_meta`, validated; undefined when there is none. */
export function declarationFromMeta(meta: Record<string, unknown> | undefined): TaskDeclaration | undefined {
  const raw = meta?.[TASK_META_KEY];
  if (raw === undefined) return undefined;
  const result = TaskDeclaration.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `_meta["${TASK_META_KEY}"]${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`,
  );
  throw taskInvalid(`invalid task declaration: ${problems.join('; ')}`);
}

/** `_meta` without the proxy's own key (what the upstream server gets); undefined when empty. */
export function forwardedMeta(
  meta: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (meta === undefined || !(TASK_META_KEY in meta)) return meta;
  const { [TASK_META_KEY]: _task, ...rest } = meta;
  return Object.keys(rest).length > 0 ? rest : undefined;
}
