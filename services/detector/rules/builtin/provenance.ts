import type { EventOf } from '../../../../schemas/index.js';
import { destinationHost } from '../../../platform/glob.js';
import { compileScope, entryMatches } from '../../scope/compile.js';
import { evaluateCompiled, type Violation } from '../../scope/evaluate.js';
import type { TaskState } from '../../state/types.js';
import type { ActionContext } from './context.js';

// Value provenance. Where a value the agent acts on came from is the difference between an
// agent steered by injected content and one that made a mistake: a recipient, account, channel
// or host that first appeared in a TOOL'S OUTPUT (data from outside) is the strongest evidence;
// one named by the declaration or an approved scope change is trusted and never counts; one named
// nowhere before is a guess (the scope rules alone report it). The gateway fingerprints entities
// (e-mails, URLs, hosts, accounts, chat users and channels) per field path, so each target of a
// call is traced on its own.
//
// AT-PROV-001: an out-of-scope target whose value came from a tool's output.
// AT-PROV-002: content provenance — an address, URL or account from a tool's output carried into
//   what an outbound call sends (a message body, a file), not as one of its targets: even to an
//   in-scope recipient, the signature of a phishing-link or exfiltration injection.

/** Operations that send, change or grant: what an injection steers. */
const ACTING_OPERATIONS = new Set(['write', 'transfer', 'execute', 'delegate', 'admin']);
/** Entity kinds that carried into content are a link to follow or an address to pay or write to. */
const CONTENT_KINDS = new Set(['url', 'email', 'account']);

type Entities = NonNullable<EventOf<'action'>['entities']>;

/**
 * Fingerprints of the value at `path`: its most specific entities (the e-mail or URL rather than
 * its host, which the output may name for other reasons), hosts only for a bare host.
 */
function fpsAt(entities: Entities, path: string): string[] {
  const at = entities.filter((e) => e.path === path);
  const specific = at.filter((e) => e.kind !== 'host');
  return (specific.length > 0 ? specific : at).map((e) => e.fp);
}

/** The event in whose output one of `fps` first appeared, if any did. */
function outputSource(task: TaskState, fps: readonly string[]): string | undefined {
  const out = task.outputFps!;
  for (const fp of fps) {
    const i = out.indexOf(fp);
    if (i >= 0) return task.outputSrc?.[i];
  }
  return undefined;
}

/** The field a violation is about: a target, the destination, or the action's own resource. */
function pathOf(v: Violation): string | undefined {
  if (v.target !== undefined) return `data.targets.${v.target}.value`;
  if (v.kind === 'egress') return 'data.destination';
  if (v.kind === 'resource' || v.kind === 'denied') return 'data.resource';
  return undefined;
}

function targetProvenance(ctx: ActionContext, entities: Entities): boolean {
  const { task, event } = ctx;
  const a = event.data;
  const scope = compileScope(task.scope!);
  // checkScope judged this action against this scope already: the same result, not a second pass.
  const result = ctx.scopeEvaluation ?? evaluateCompiled(scope, a);
  if (result.allowed) return false;
  for (const v of result.violations) {
    const path = pathOf(v);
    const source = path === undefined ? undefined : outputSource(task, fpsAt(entities, path));
    if (source !== undefined) {
      ctx.emit('AT-PROV-001', { source, detail: v.detail }, [source, event.event_id]);
      return true;
    }
  }
  if (a.targets !== undefined) return false;
  // Contract 1.0 events (no targets): any argument value from tool output, with the destination
  // or the call itself out of scope.
  const argFps = entities.filter((e) => !e.path.startsWith('data.output')).map((e) => e.fp);
  const source = outputSource(task, argFps);
  if (source === undefined) return false;
  let outside: string | undefined;
  if (a.destination !== undefined && !scope.egress(destinationHost(a.destination))) {
    outside = `its destination host '${destinationHost(a.destination)}' is not in scope.egress`;
  } else if (!scope.allow.some((entry) => entryMatches(entry, a))) {
    outside = 'its target is not in scope.allow';
  }
  if (outside === undefined) return false;
  ctx.emit('AT-PROV-001', { source, detail: outside }, [source, event.event_id]);
  return true;
}

function contentProvenance(ctx: ActionContext, entities: Entities): void {
  const { task, event } = ctx;
  // Without data.targets (contract 1.0) a recipient in the arguments cannot be told from content.
  if (event.data.targets === undefined) return;
  // What the call is addressed to is judged above; content is everything else it carries.
  const targetFps = new Set(
    entities
      .filter((e) => !e.path.startsWith('data.arguments') && !e.path.startsWith('data.output'))
      .map((e) => e.fp),
  );
  for (const e of entities) {
    if (!e.path.startsWith('data.arguments') || !CONTENT_KINDS.has(e.kind) || targetFps.has(e.fp)) continue;
    const source = outputSource(task, [e.fp]);
    if (source === undefined) continue;
    ctx.emit('AT-PROV-002', { source, kind: e.kind, field: e.path.slice('data.'.length) }, [
      source,
      event.event_id,
    ]);
    return;
  }
}

export function checkProvenance(ctx: ActionContext): void {
  const { task, event } = ctx;
  const entities = event.entities;
  if (task.outputFps === undefined || task.scope === undefined || entities === undefined) return;
  if (!ACTING_OPERATIONS.has(event.data.operation)) return;
  if (!targetProvenance(ctx, entities)) contentProvenance(ctx, entities);
}
