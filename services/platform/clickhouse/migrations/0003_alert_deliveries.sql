-- One row per delivery attempt of an alert to a destination (webhook, Slack, PagerDuty).
-- Attempts are numbered by the alerter, so a re-sent row for the same attempt collapses.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_deliveries
(
    alert_id    String,
    destination LowCardinality(String),
    attempt     UInt16,
    status      LowCardinality(String),
    http_status Nullable(UInt16),
    latency_ms  UInt32,
    error       Nullable(String),
    at          DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(at)
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, destination, attempt);
