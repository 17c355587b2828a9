import type { ClickHouseClient } from '@clickhouse/client';
import type { Alert } from '../../../schemas/alert.js';
import {
  type AlertCurrentStatus,
  AlertStatusReason,
  AlertStatusRecord,
  type AlertStatusType,
  alertStatusId,
  currentAlertStatus,
} from '../../../schemas/alert-status.js';
import {
  AlertStatusRepository,
  AlertsRepository,
  type StoredAlertRow,
} from '../../platform/clickhouse/read/index.js';
import { AgentTrailError } from '../../platform/errors.js';
import { type KafkaProducer, sendAcked } from '../../platform/kafka/producer.js';
import type { ApiPrincipal } from '../roles.js';
import { alertFromRow } from './alert-row.js';

// Acknowledge and resolve (issue 11): a responder's change becomes one append-only status
// record (schemas/alert-status.ts), produced to the status topic (acks=all), from which the
// alerter sends PagerDuty's acknowledge/resolve and the Slack and webhook follow-ups, and stored
// in `alert_status`. A resolve also writes the alert's row again with status 'resolved'
// (migrations/0006 says why). The answer comes only after all of it.
//
// Kafka first: the topic is what pages. Were the row stored first and the produce then failed,
// a retry would find the record and answer "done" with nothing ever paged. This way a retry
// after a failed store produces the record again (same status_id; the alerter checks every
// status record against its delivery log, so it is not paged twice) and stores it.
//
// Idempotent: the status_id is fixed per (tenant, alert, type), so a second resolve finds the
// first record and answers it unchanged, producing nothing. One request per alert at a time in
// this process, so a double click cannot race itself; two API instances racing on one alert
// write two records of one status_id, which collapse in the table.

export interface AlertStatusAnswer {
  alert_id: string;
  dedup_key: string;
  /** The alert's status after the change. */
  status: AlertCurrentStatus;
  /** The record of this change (for a repeat, the one first made). */
  record: AlertStatusRecord;
}

export interface AlertStatusWriter {
  acknowledge(by: ApiPrincipal, alertId: string, reason: string): Promise<AlertStatusAnswer>;
  resolve(by: ApiPrincipal, alertId: string, reason: string): Promise<AlertStatusAnswer>;
}

export interface AlertStatusWriterDeps {
  producer: KafkaProducer;
  /** KAFKA_TOPIC_ALERT_STATUS. */
  topic: string;
  clickhouse: ClickHouseClient;
  database: string;
  now?: () => Date;
}

const ALERT_ID = /^[0-9a-f]{32}$/;

export function createAlertStatusWriter(deps: AlertStatusWriterDeps): AlertStatusWriter {
  const ctx = { client: deps.clickhouse, database: deps.database, caller: 'api' };
  const alerts = new AlertsRepository(ctx);
  const statuses = new AlertStatusRepository(ctx);
  const now = deps.now ?? (() => new Date());
  const queue = new Map<string, Promise<unknown>>();

  /** Run `op` after any earlier change of the same alert in this process has finished. */
  function serially<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = queue.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    queue.set(key, next);
    void next
      .finally(() => {
        if (queue.get(key) === next) queue.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  async function change(type: AlertStatusType, by: ApiPrincipal, alertId: string, reason: string) {
    const why = AlertStatusReason.safeParse(reason);
    if (!why.success)
      throw new AgentTrailError(
        'AT_ERR_BAD_REQUEST',
        `reason ${why.error.issues[0]?.message ?? 'is invalid'}`,
      );
    // Same answer as for an alert that is not there: nothing says whether the id exists elsewhere.
    const notFound = () => new AgentTrailError('AT_ERR_NOT_FOUND', `no alert ${alertId.slice(0, 64)}`);
    if (!ALERT_ID.test(alertId)) throw notFound();
    return serially(`${by.tenant}\u0000${alertId}`, async () => {
      const row = await storage(() => alerts.get(by.tenant, alertId));
      if (!row) throw notFound();
      const history = await storage(() => statuses.history(by.tenant, alertId));
      const statusId = alertStatusId(by.tenant, alertId, type);
      const resolved = history.find((r) => r.type === 'alert.resolved');
      if (type === 'alert.acknowledged' && (resolved || row.status === 'resolved')) {
        const when = resolved ? ` by ${resolved.by.key_id} at ${resolved.at}` : '';
        throw new AgentTrailError(
          'AT_ERR_CONFLICT',
          `alert ${alertId} is already resolved${when}; a resolved alert cannot be acknowledged`,
        );
      }
      const earlier = history.find((r) => r.status_id === statusId);
      if (earlier) {
        // A repeat: answer the first record. Repair a resolve whose alerts row did not land.
        if (type === 'alert.resolved' && row.status !== 'resolved') await storeResolvedRow(row, earlier);
        return answer(row, earlier, history);
      }
      const record = AlertStatusRecord.parse({
        type,
        status_id: statusId,
        alert_id: alertId,
        tenant: by.tenant,
        dedup_key: row.dedup_key,
        by: { key_id: by.keyId, role: by.role },
        reason: why.data,
        at: now().toISOString(),
      });
      await produce(record, alertFromRow(row));
      await storage(() => insert('alert_status', [statusRow(record)], record.status_id));
      if (type === 'alert.resolved') await storeResolvedRow(row, record);
      return answer(row, record, [...history, record]);
    });
  }

  async function produce(record: AlertStatusRecord, alert: Alert): Promise<void> {
    try {
      await sendAcked(deps.producer, deps.topic, [
        {
          // By dedup key: one PagerDuty incident's acknowledge and resolve stay in order.
          key: record.dedup_key,
          value: JSON.stringify({ ...record, alert }),
          headers: {
            'x-agenttrail-alert-id': record.alert_id,
            'x-agenttrail-status-id': record.status_id,
            'x-agenttrail-status-type': record.type,
          },
        },
      ]);
    } catch (err) {
      throw new AgentTrailError(
        'AT_ERR_KAFKA_UNAVAILABLE',
        'Kafka did not acknowledge the status change; nothing was recorded, retry',
        { cause: err },
      );
    }
  }

  function storeResolvedRow(row: StoredAlertRow, record: AlertStatusRecord): Promise<void> {
    // updated_at left to ClickHouse's clock (now64), the same clock that stamped the firing row,
    // so this row is the newer whatever the API host's clock says.
    return storage(() => insert('alerts', [{ ...row, status: 'resolved' }], `${record.status_id}:alerts`));
  }

  async function insert(table: string, values: object[], token: string): Promise<void> {
    await deps.clickhouse.insert({
      table: `${deps.database}.${table}`,
      values,
      format: 'JSONEachRow',
      // A retried insert that had landed is dropped (non_replicated_deduplication_window).
      clickhouse_settings: { date_time_input_format: 'best_effort', insert_deduplication_token: token },
    });
  }

  return {
    acknowledge: (by, id, reason) => change('alert.acknowledged', by, id, reason),
    resolve: (by, id, reason) => change('alert.resolved', by, id, reason),
  };
}

function answer(
  row: StoredAlertRow,
  record: AlertStatusRecord,
  history: AlertStatusRecord[],
): AlertStatusAnswer {
  return {
    alert_id: row.alert_id,
    dedup_key: row.dedup_key,
    status: currentAlertStatus(row.status, history),
    record,
  };
}

function statusRow(r: AlertStatusRecord) {
  return {
    status_id: r.status_id,
    type: r.type,
    alert_id: r.alert_id,
    tenant: r.tenant,
    dedup_key: r.dedup_key,
    by_key_id: r.by.key_id,
    by_role: r.by.role,
    reason: r.reason,
    at: r.at,
  };
}

/** A ClickHouse read or write; its failure is a 503 in our words (the client sees no ClickHouse text). */
async function storage<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof AgentTrailError) throw err;
    throw new AgentTrailError(
      'AT_ERR_CLICKHOUSE_UNAVAILABLE',
      'the alert status could not be read or stored right now; retry (the same request is idempotent)',
      { cause: err },
    );
  }
}
