-- Dashboard aggregates, kept current by materialised views at insert time.
--
-- Counts are uniqState(event_id / alert_id), not count(): a batch redelivered after a crash
-- reaches the view a second time, and uniq (exact up to 65,536 distinct ids per key) does not
-- count it twice. Read with uniqMerge(...) and GROUP BY.
CREATE TABLE IF NOT EXISTS {db:Identifier}.agent_actions_per_minute
(
    tenant   LowCardinality(String),
    agent_id LowCardinality(String),
    minute   DateTime('UTC'),
    actions  AggregateFunction(uniq, String),
    failures AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant, agent_id, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.agent_actions_per_minute_mv
TO {db:Identifier}.agent_actions_per_minute
AS SELECT
    tenant,
    agent_id,
    toStartOfMinute(occurred_at) AS minute,
    uniqState(event_id) AS actions,
    uniqStateIf(event_id, outcome != 'ok') AS failures
FROM {db:Identifier}.events
WHERE type = 'action'
GROUP BY tenant, agent_id, minute;

CREATE TABLE IF NOT EXISTS {db:Identifier}.violations_per_rule_per_hour
(
    tenant   LowCardinality(String),
    rule_id  LowCardinality(String),
    severity LowCardinality(String),
    hour     DateTime('UTC'),
    alerts   AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, rule_id, severity, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.violations_per_rule_per_hour_mv
TO {db:Identifier}.violations_per_rule_per_hour
AS SELECT
    tenant,
    rule_id,
    severity,
    toStartOfHour(created_at) AS hour,
    uniqState(alert_id) AS alerts
FROM {db:Identifier}.alerts
GROUP BY tenant, rule_id, severity, hour;
