-- An alert's status history (schemas/alert-status.ts): one row per acknowledge or resolve, who
-- (API key id and role) and why, never updated. status_id is deterministic per (tenant, alert,
-- type), so a replayed or repeated record is the same key and collapses on merge; reads use
-- FINAL. Not partitioned: rows are as rare as alerts, and a partition by time would keep two
-- copies of one status_id written across a month boundary apart for ever.
--
-- Current status = `resolved` if the alert row says so or a resolve record exists, else
-- `acknowledged` if an acknowledge record exists, else `firing` (currentAlertStatus). A resolve
-- ALSO writes a new `alerts` row, a copy with status = 'resolved' and a later updated_at
-- (ReplacingMergeTree(updated_at) keeps it), so every existing reader of `alerts` (the status
-- filter, dashboards) sees it resolved without joining this table; the dashboard views count
-- uniq(alert_id), so the extra row is not a second alert. An acknowledge writes no alerts row:
-- `alerts.status` stays within the Alert contract ('firing' | 'resolved').
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_status
(
    status_id  String,
    type       LowCardinality(String),
    alert_id   String,
    tenant     LowCardinality(String),
    dedup_key  String,
    by_key_id  String,
    by_role    LowCardinality(String),
    reason     String CODEC(ZSTD(3)),
    at         DateTime64(3, 'UTC'),
    stored_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, alert_id, status_id)
-- A write retried with the same insert_deduplication_token (the status_id) is dropped on arrival.
SETTINGS non_replicated_deduplication_window = 1000;
