-- Risk signals the detector recorded on tasks (detector baselines/risk.ts; schemas/alert.ts
-- RiskSignal plus the task): first uses, new resource classes, rate and fan-out outliers. They
-- page only when combined or accumulated, so without this table a task's signals that never rode
-- on an alert would be visible nowhere; the timeline reads them from here. A replay after a
-- restart records the same signal again: one row per (tenant, task, event, rule) survives merges,
-- and reads take one per key (read/risk-signals.ts).
CREATE TABLE IF NOT EXISTS {db:Identifier}.risk_signals
(
    tenant      LowCardinality(String),
    task_id     String,
    event_id    String,
    rule_id     LowCardinality(String),
    agent_id    LowCardinality(String),
    score       Float64,
    occurred_at DateTime64(3, 'UTC'),
    explanation String CODEC(ZSTD(3)),
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(recorded_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, task_id, event_id, rule_id)
SETTINGS non_replicated_deduplication_window = 1000;
