import type { FrameworkRef } from '../../../schemas/index.js';

// Framework references used by the built-in rules. Ids follow the published lists:
// OWASP Top 10 for Agentic Applications (2026), OWASP Non-Human Identities Top 10 (2025), MITRE ATLAS.

const asi = (id: string, name: string): FrameworkRef => ({ framework: 'owasp-agentic-2026', id, name });
const nhi = (id: string, name: string): FrameworkRef => ({ framework: 'owasp-nhi-2025', id, name });
const atlas = (id: string, name: string): FrameworkRef => ({ framework: 'mitre-atlas', id, name });

export const F = {
  ASI01: asi('ASI01', 'Agent Goal Hijack'),
  ASI02: asi('ASI02', 'Tool Misuse and Exploitation'),
  ASI03: asi('ASI03', 'Identity and Privilege Abuse'),
  ASI07: asi('ASI07', 'Insecure Inter-Agent Communication'),
  ASI08: asi('ASI08', 'Cascading Failures'),
  ASI09: asi('ASI09', 'Human-Agent Trust Exploitation'),
  ASI10: asi('ASI10', 'Rogue Agents'),
  NHI1: nhi('NHI1', 'Improper Offboarding'),
  NHI2: nhi('NHI2', 'Secret Leakage'),
  NHI5: nhi('NHI5', 'Overprivileged NHI'),
  NHI7: nhi('NHI7', 'Long-Lived Secrets'),
  NHI9: nhi('NHI9', 'NHI Reuse'),
  T0051: atlas('AML.T0051', 'LLM Prompt Injection'),
  T0053: atlas('AML.T0053', 'LLM Plugin Compromise'),
  T0055: atlas('AML.T0055', 'Unsecured Credentials'),
  T0057: atlas('AML.T0057', 'LLM Data Leakage'),
  T0012: atlas('AML.T0012', 'Valid Accounts'),
} as const;

export type FrameworkKey = keyof typeof F;

/** Resolve a framework reference written in a rules file (`ASI02`, `NHI7`, `AML.T0051`). */
export function frameworkRef(id: string): FrameworkRef | undefined {
  if (id in F) return F[id as FrameworkKey];
  const byId = Object.values(F).find((f) => f.id === id);
  if (byId) return byId;
  if (/^ASI\d{2}$/.test(id)) return { framework: 'owasp-agentic-2026', id };
  if (/^NHI\d{1,2}$/.test(id)) return { framework: 'owasp-nhi-2025', id };
  if (/^AML\.T\d{4}(\.\d{3})?$/.test(id)) return { framework: 'mitre-atlas', id };
  return undefined;
}
