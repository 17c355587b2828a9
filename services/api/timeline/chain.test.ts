import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../../scenarios/builder.js';
import { eventHash, verifyChain } from '../../../schemas/chain.js';
import { ChainVerifier } from './chain.js';

function events(n: number, ended = true) {
  const s = new TaskStream({ taskId: 't1' });
  s.declared({ allow: [{ tools: ['erp.*'] }] });
  for (let i = 0; i < n; i++) s.action({ tool: 'erp.read', operation: 'read', resource: `erp:x/${i}` });
  if (ended) s.ended();
  return s.events() as unknown as Array<Record<string, unknown> & { seq: number }>;
}

function verdict(evs: ReadonlyArray<Record<string, unknown> & { seq: number }>) {
  const v = new ChainVerifier('t1');
  for (const e of evs) v.add(e);
  return v.verdict();
}

describe('ChainVerifier', () => {
  it('verifies a sound task, as verifyChain does, with a sentence saying so', () => {
    const evs = events(5);
    const v = verdict(evs);
    expect(verifyChain(evs).ok).toBe(true);
    expect(v).toMatchObject({
      status: 'verified',
      ok: true,
      events: 7,
      first_seq: 1,
      last_seq: 7,
      ended: true,
    });
    expect(v.sentence).toMatch(/^Task t1: VERIFIED\. All 7 events \(seq 1-7\)/);
  });

  it('names a gap as a seq range, and the link after it is not blamed on tampering', () => {
    const evs = events(6).filter((e) => e.seq !== 3 && e.seq !== 4);
    const v = verdict(evs);
    expect(verifyChain(evs).ok).toBe(false);
    expect(v).toMatchObject({
      status: 'incomplete',
      gaps: [{ from: 3, to: 4 }],
      broken_links: [],
      altered: [],
    });
    expect(v.sentence).toContain('2 events are missing (seq 3-4)');
  });

  it('a missing first event is a gap from 1; a missing end is said', () => {
    const evs = events(2, false).slice(1);
    const v = verdict(evs);
    expect(v.gaps).toEqual([{ from: 1, to: 1 }]);
    expect(v.sentence).toContain('has not recorded its end');
  });

  it('finds an altered event and a replaced link, like verifyChain', () => {
    const evs = events(4).map((e) => ({ ...e }));
    (evs[2]!.data as Record<string, unknown>) = { ...(evs[2]!.data as object), resource: 'erp:secret' };
    // Seq 5 replaced by a self-consistent forgery: its own hash fits, its link does not.
    evs[4]!.prev_hash = 'f'.repeat(64);
    evs[4]!.hash = eventHash(evs[4]!);
    const v = verdict(evs);
    const ref = verifyChain(evs);
    expect(ref.problems.map((p) => p.kind).sort()).toEqual([
      'hash_mismatch',
      'prev_hash_mismatch',
      'prev_hash_mismatch',
    ]);
    expect(v).toMatchObject({ status: 'tampered', altered: [3], broken_links: [5, 6] });
    expect(v.sentence).toContain('The content of seq 3 does not match its recorded hash');
  });

  it('both at once, and unreadable rows count against the record', () => {
    const evs = events(4)
      .filter((e) => e.seq !== 2)
      .map((e) => ({ ...e }));
    evs[2]!.hash = '0'.repeat(64);
    const v = new ChainVerifier('t1');
    for (const e of evs) v.add(e);
    v.addUnreadable();
    expect(v.verdict()).toMatchObject({ status: 'incomplete_and_tampered', unreadable: 1 });
    expect(new ChainVerifier('t1').verdict().status).toBe('empty');
  });
});
