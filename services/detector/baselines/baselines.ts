import type { EventOf } from '../../../schemas/index.js';
import { append } from '../append.js';
import type { BaselineConfig } from '../config.js';
import type { Changes } from '../state/changes.js';
import { newRateState, observeRate, type RateState } from './rate.js';
import { resourceClassLike } from './resource-class.js';

// Per-identity statistical detectors: action-rate outliers, first use of a tool or resource class
// after warm-up, and fan-out of distinct resources in a fixed window. The identity is the
// workload identity when the agent has one (it is what the credential is bound to), else agent.id.

export interface IdentityBaseline {
  actions: number;
  rate: RateState;
  tools: Set<string>;
  classes: Set<string>;
  fanWindow: number;
  fan: Set<string>;
  fanFired: boolean;
  /** Last resource seen and its class: consecutive actions on one resource skip re-deriving it. */
  lastResource?: string;
  lastClass?: string;
}

export type BaselineFinding =
  | { rule: 'AT-BASE-001'; vars: Record<string, string | number> }
  | { rule: 'AT-BASE-002'; vars: Record<string, string | number> }
  | { rule: 'AT-BASE-003'; vars: Record<string, string | number> }
  | { rule: 'AT-BASE-004'; vars: Record<string, string | number> };

export interface BaselinesJSON {
  identities: Record<
    string,
    Omit<IdentityBaseline, 'tools' | 'classes' | 'fan'> & {
      tools: string[];
      classes: string[];
      fan: string[];
    }
  >;
}

export function identityJSON(b: IdentityBaseline): BaselinesJSON['identities'][string] {
  return {
    ...b,
    rate: { ...b.rate, history: [...b.rate.history] },
    tools: [...b.tools],
    classes: [...b.classes],
    fan: [...b.fan],
  };
}

export function identityOf(event: EventOf<'action'>): string {
  return `${event.tenant}/${event.agent.workload_identity ?? event.agent.id}`;
}

export class Baselines {
  /** tenant → identity → baseline (nested: no key string built per event). */
  readonly identities = new Map<string, Map<string, IdentityBaseline>>();
  /** `changes` is told of each identity `observe` folds an action into (the snapshot writer caches their text). */
  constructor(
    private readonly cfg: BaselineConfig,
    readonly changes: Changes<IdentityBaseline>,
  ) {}

  /** Fold one action in; returns what is unusual about it (usually nothing). */
  observe(event: EventOf<'action'>, atMs: number): BaselineFinding[] | undefined {
    const cfg = this.cfg;
    if (!cfg.enabled) return undefined;
    const identity = event.agent.workload_identity ?? event.agent.id;
    let byId = this.identities.get(event.tenant);
    if (byId === undefined) {
      byId = new Map();
      this.identities.set(event.tenant, byId);
    }
    let b = byId.get(identity);
    if (b === undefined) {
      b = {
        actions: 0,
        rate: newRateState(Math.floor(atMs / cfg.bucket_ms)),
        tools: new Set(),
        classes: new Set(),
        fanWindow: Math.floor(atMs / cfg.fanout_window_ms),
        fan: new Set(),
        fanFired: false,
      };
      byId.set(identity, b);
    } else this.changes.touch(b);
    let out: BaselineFinding[] | undefined;
    const warm = b.actions >= cfg.first_use_warmup_actions;
    b.actions++;

    const over = observeRate(b.rate, atMs, cfg);
    if (over !== undefined) {
      out = append(out, {
        rule: 'AT-BASE-001',
        vars: {
          identity,
          count: over,
          bucket_s: cfg.bucket_ms / 1000,
          median: b.rate.median ?? 0,
          threshold: Math.round((b.rate.threshold ?? 0) * 10) / 10,
        },
      });
    }

    const a = event.data;
    if (!b.tools.has(a.tool) && b.tools.size < cfg.max_known_per_identity) {
      b.tools.add(a.tool);
      if (warm)
        out = append(out, { rule: 'AT-BASE-002', vars: { identity, tool: a.tool, known: b.actions - 1 } });
    }
    if (a.resource !== undefined) {
      if (a.resource !== b.lastResource) {
        b.lastResource = a.resource;
        b.lastClass = resourceClassLike(a.resource, b.lastClass);
      }
      const cls = b.lastClass!;
      if (!b.classes.has(cls) && b.classes.size < cfg.max_known_per_identity) {
        b.classes.add(cls);
        if (warm)
          out = append(out, { rule: 'AT-BASE-003', vars: { identity, class: cls, known: b.actions - 1 } });
      }
      const window = Math.floor(atMs / cfg.fanout_window_ms);
      if (window > b.fanWindow) {
        b.fanWindow = window;
        b.fan.clear();
        b.fanFired = false;
      }
      if (!b.fanFired && !b.fan.has(a.resource)) {
        b.fan.add(a.resource);
        if (b.fan.size > cfg.fanout_distinct_resources) {
          b.fanFired = true;
          b.fan.clear(); // no need to keep counting this window: memory stays bounded
          out = append(out, {
            rule: 'AT-BASE-004',
            vars: {
              identity,
              count: cfg.fanout_distinct_resources + 1,
              window_s: cfg.fanout_window_ms / 1000,
            },
          });
        }
      }
    }
    return out;
  }

  toJSON(): BaselinesJSON {
    const identities: BaselinesJSON['identities'] = {};
    for (const [tenant, byId] of this.identities)
      for (const [id, b] of byId) identities[`${tenant}/${id}`] = identityJSON(b);
    return { identities };
  }

  static fromJSON(json: BaselinesJSON, cfg: BaselineConfig, changes: Changes<IdentityBaseline>): Baselines {
    const out = new Baselines(cfg, changes);
    for (const [key, b] of Object.entries(json.identities)) {
      const slash = key.indexOf('/');
      const tenant = key.slice(0, slash);
      let byId = out.identities.get(tenant);
      if (byId === undefined) {
        byId = new Map();
        out.identities.set(tenant, byId);
      }
      byId.set(key.slice(slash + 1), {
        ...b,
        tools: new Set(b.tools),
        classes: new Set(b.classes),
        fan: new Set(b.fan),
      });
    }
    return out;
  }
}
