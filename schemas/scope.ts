import { z } from 'zod';
import { DataClass, Glob, Id, Operation, ShortText, Timestamp } from './common.js';

// The declared scope of a task: what the agent may do, as data. Deny wins over allow.
// Patterns are globs: `*` matches within one segment (no `/`, `.` for hosts), `**` matches across.

/** One allow or deny entry over (tool, operation, resource). Omitted fields match anything. */
export const ScopeEntry = z.strictObject({
  tools: z.array(Glob).min(1).max(64).optional(),
  operations: z.array(Operation).min(1).optional(),
  resources: z.array(Glob).min(1).max(256).optional(),
});
export type ScopeEntry = z.infer<typeof ScopeEntry>;

/** Which actions need an approval, and who may give it. */
export const ApprovalPolicy = z.strictObject({
  /** Actions matching any of these entries need an approval that names them. */
  required_for: z.array(ScopeEntry).max(64).default([]),
  /** Principals allowed to approve (globs over approver ids, e.g. `alice@corp`, `group:sre/*`). */
  approvers: z.array(Glob).max(64).default([]),
  /** How long a grant stays usable when it carries no expiry of its own. */
  default_ttl_s: z.number().int().positive().max(604_800).default(3600),
});
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

export const ScopeLimits = z.strictObject({
  max_actions: z.number().int().positive().max(10_000_000).optional(),
  /** The scope stops covering anything after this instant. */
  expires_at: Timestamp.optional(),
});

/**
 * Who the task may address, per kind (contract 1.1). Each value is normalised before matching
 * (e-mail: `mailto:`, display name and case dropped; account: spaces and dashes dropped, upper
 * case; chat user/channel: a leading `@`/`#` and case dropped; URL: scheme, `www.`, trailing `/`
 * and host case dropped) and the globs are normalised the same way. Write learnt or copied
 * values with a literal (`\*`, `literal:`), see services/platform/glob.ts.
 */
export const RecipientScope = z.strictObject({
  /** E-mail addresses, e.g. `bob@partner.example`, `*@acme.example`. */
  emails: z.array(Glob).max(256).default([]),
  /** Bank account numbers or IBANs the task may pay or address. */
  accounts: z.array(Glob).max(256).default([]),
  chat_users: z.array(Glob).max(256).default([]),
  chat_channels: z.array(Glob).max(256).default([]),
  /** URLs with paths, e.g. `https://hooks.acme.example/ci/**`: finer than a host in `egress`. */
  urls: z.array(Glob).max(256).default([]),
});
export type RecipientScope = z.infer<typeof RecipientScope>;

export const Scope = z.strictObject({
  allow: z.array(ScopeEntry).max(256).default([]),
  deny: z.array(ScopeEntry).max(256).default([]),
  /** Hosts (globs) the task may send data to. Empty = no egress allowed. */
  egress: z.array(Glob).max(256).default([]),
  /**
   * Recipients by kind, in addition to `egress` (an e-mail or URL whose host is in egress is
   * allowed too). Absent: recipients are judged by host against `egress` as in contract 1.0,
   * and account and chat targets are not judged. Present: every recipient and account target
   * must match its kind's list or (e-mail, URL) a host in egress.
   */
  recipients: RecipientScope.optional().describe(
    'Since contract 1.1 (additive to v1). Recipients per kind, in addition to egress hosts; absent = recipients judged by host against egress as in 1.0.',
  ),
  /** Data classes the task may touch. Empty = only unclassified actions. */
  data_classes: z.array(DataClass).max(32).default([]),
  approvals: ApprovalPolicy.default({ required_for: [], approvers: [], default_ttl_s: 3600 }),
  limits: ScopeLimits.default({}),
});
export type Scope = z.infer<typeof Scope>;
export type ScopeInput = z.input<typeof Scope>;

/** Who declared a task: a human principal, a parent task (delegation) or a service. */
export const Principal = z.strictObject({
  kind: z.enum(['human', 'task', 'service']),
  id: Id,
  display: ShortText.optional(),
});
export type Principal = z.infer<typeof Principal>;
