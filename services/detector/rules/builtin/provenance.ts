import { destinationHost } from '../../../platform/glob.js';
import { compileScope, entryMatches } from '../../scope/compile.js';
import type { ActionContext } from './context.js';

// Value provenance: a write, send or transfer whose destination/recipient first appeared in a
// tool's output (data from outside) and lies outside the declared scope. Values named by the
// declaration or an approved scope change are trusted and never count.

const SENDING_OPERATIONS = new Set(['write', 'transfer', 'execute']);

export function checkProvenance(ctx: ActionContext): void {
  const { task, event } = ctx;
  const fps = task.outputFps;
  if (fps === undefined || task.scope === undefined || event.entities === undefined) return;
  const a = event.data;
  if (!SENDING_OPERATIONS.has(a.operation)) return;
  let source: string | undefined;
  for (const e of event.entities) {
    if (e.path.startsWith('data.output')) continue;
    const i = fps.indexOf(e.fp);
    if (i >= 0) {
      source = task.outputSrc?.[i];
      break;
    }
  }
  if (source === undefined) return;
  const scope = compileScope(task.scope);
  let outside: string | undefined;
  if (a.destination !== undefined && !scope.egress(destinationHost(a.destination))) {
    outside = `its destination host '${destinationHost(a.destination)}' is not in scope.egress`;
  } else if (!scope.allow.some((entry) => entryMatches(entry, a))) {
    outside = `its target is not in scope.allow`;
  }
  if (outside === undefined) return;
  ctx.emit('AT-PROV-001', { source, detail: outside }, [source, event.event_id]);
}
