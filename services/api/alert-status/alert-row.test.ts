import { describe, expect, it } from 'vitest';
import { makeAlert } from '../../alerter/testing.js';
import { toAlertRow } from '../../detector/io/alert-rows.js';
import { alertFromRow } from './alert-row.js';

// The status message carries the alert rebuilt from its stored row: it must be the alert the
// detector raised, so the follow-up routes and reads exactly like the page.

const chTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');

describe('alertFromRow', () => {
  it('rebuilds the alert from its row as ClickHouse returns it (NULLs absent, times in its text form)', () => {
    const full = makeAlert({
      workload_identity: 'spiffe://acme/agent',
      scope_element: 'scope.egress',
      frameworks: [{ framework: 'owasp-agentic-2026', id: 'T1' }],
      labels: { team: 'sec' },
      link: 'https://trail.example/tasks/acme/task-1',
    });
    const bare = makeAlert();
    for (const alert of [full, bare]) {
      const row = toAlertRow(alert);
      const stored = { ...row, occurred_at: chTime(row.occurred_at), created_at: chTime(row.created_at) };
      expect(alertFromRow(stored)).toEqual(alert);
    }
  });
});
