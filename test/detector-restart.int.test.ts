import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectorEnv,
  produceEvents,
  readAlertTopic,
  referenceAlerts,
  singleTaskScenarios,
  spawnDetector,
  storedAlertCounts,
  storedAlertIds,
} from './helpers/detector.js';
import { clickhouseClient, createTopic, dropDatabase, testEndpoints, uniqueName } from './helpers/stack.js';

// kill -9 the detector mid-stream and restart it: the restored snapshot plus the replay of
// everything after it give exactly the alert set of an uninterrupted run (computed in-process),
// with no alert stored twice and no alert missing from the topic.

const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('detector restart', () => {
  it('after kill -9 mid-stream, raises the same alerts once', async () => {
    const database = uniqueName('it_detect_restart');
    databases.push(database);
    const { brokers, clickhouseUrl } = testEndpoints();
    const eventsTopic = `${database}.events`;
    const alertsTopic = `${database}.alerts`;
    await createTopic(eventsTopic, 4);
    await createTopic(alertsTopic, 4);
    const stateDir = mkdtempSync(join(tmpdir(), 'agenttrail-detector-'));
    const env = detectorEnv({
      brokers,
      clickhouseUrl,
      database,
      eventsTopic,
      alertsTopic,
      stateDir,
      extra: { DETECTOR_SNAPSHOT_INTERVAL_MS: '2000', DETECTOR_SESSION_TIMEOUT_MS: '6000' },
    });

    // 2,000 tasks, attack and benign, one tenant each (see singleTaskScenarios).
    const events = singleTaskScenarios(2_000, 'rs').flatMap((s) => s.events);
    const expected = new Set(referenceAlerts(events).map((a) => a.alert_id));
    expect(expected.size).toBeGreaterThan(500);
    const half = Math.floor(events.length / 2);

    const ch = clickhouseClient();
    let detector = await spawnDetector(env, `${database}-1`);
    try {
      // Slices, as a live topic gets them, up to the middle and a first snapshot.
      let sent = 0;
      while (sent < half) {
        await produceEvents(brokers, eventsTopic, events.slice(sent, sent + 500));
        sent += 500;
        await sleep(100);
      }
      const snapshotFile = join(stateDir, 'detector-snapshot.json');
      await expect.poll(() => existsSync(snapshotFile), { timeout: 10_000 }).toBe(true);
      // kill -9 once alerts were published after the last snapshot, before the next one: those
      // alerts are raised again by the replay after the restart and must not be stored or sent
      // twice. If a snapshot lands meanwhile, another slice gives the kill a new chance.
      for (;;) {
        const snapshotAt = statSync(snapshotFile).mtimeMs;
        const storedBefore = (await storedAlertCounts(ch, database)).raw;
        await produceEvents(brokers, eventsTopic, events.slice(sent, sent + 250));
        sent += 250;
        let published = false;
        for (let waited = 0; !published && waited < 5_000; waited += 50) {
          await sleep(50);
          published = (await storedAlertCounts(ch, database)).raw > storedBefore;
        }
        if (published && statSync(snapshotFile).mtimeMs === snapshotAt) break;
        expect(sent).toBeLessThan(events.length - 1_000);
      }
      detector.child.kill('SIGKILL');
      await detector.exited;

      // The rest arrives while it is down; then it restarts from its snapshot.
      await produceEvents(brokers, eventsTopic, events.slice(sent));
      detector = await spawnDetector(env, `${database}-2`);
      const restored = detector.output.join('');
      expect(restored).toContain('state restored from snapshot');

      await expect
        .poll(async () => (await storedAlertCounts(ch, database)).final, { timeout: 60_000 })
        .toBe(expected.size);
      const stored = await storedAlertIds(ch, database);
      expect(stored).toEqual([...expected].sort());
      const counts = await storedAlertCounts(ch, database);
      // No alert row written twice (raw rows, before any merge could hide a duplicate).
      expect(counts.raw).toBe(counts.distinct);
      expect(counts.final).toBe(counts.distinct);

      const onTopic = await readAlertTopic(
        brokers,
        alertsTopic,
        (a) => new Set(a.map((x) => x.alert_id)).size >= expected.size,
      );
      const topicIds = new Set(onTopic.map((a) => a.alert_id));
      expect([...topicIds].sort()).toEqual([...expected].sort());
      expect(await detector.stop('SIGTERM')).toBe(0);
      const skipped = Number(/"suppressed":(\d+)/.exec(detector.output.join(''))?.[1]);
      console.log(
        `restart: ${events.length} events, ${expected.size} alerts expected; table raw ${counts.raw}, ` +
          `topic ${onTopic.length} messages / ${topicIds.size} distinct; ${skipped} replayed alerts skipped`,
      );
      // The kill landed after alerts the last snapshot did not cover: the replay re-raised them.
      expect(skipped).toBeGreaterThan(0);
    } finally {
      await detector.stop('SIGKILL');
      await ch.close();
    }
  });
});
