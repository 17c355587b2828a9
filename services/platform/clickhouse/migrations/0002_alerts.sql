-- Alerts raised by the detector (fields of schemas/alert.ts). alert_id is deterministic, so a
-- replayed alert or a status change (firing → resolved) is a new row for the same key; the
-- row with the newest updated_at wins. Reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alerts
(
    alert_id          String,
    rule_id           LowCardinality(String),
    severity          LowCardinality(String),
    title             String,
    explanation       String CODEC(ZSTD(3)),
    tenant            LowCardinality(String),
    task_id           String,
    agent_id          LowCardinality(String),
    workload_identity LowCardinality(Nullable(String)),
    evidence          Array(String),
    scope_element     LowCardinality(Nullable(String)),
    frameworks        Array(Tuple(framework LowCardinality(String), id String, name Nullable(String))),
    dedup_key         String,
    occurred_at       DateTime64(3, 'UTC'),
    created_at        DateTime64(3, 'UTC'),
    status            LowCardinality(String),
    labels            Map(String, String),
    link              Nullable(String),
    updated_at        DateTime64(3, 'UTC') DEFAULT now64(3),

    INDEX idx_task_id task_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, alert_id)
SETTINGS non_replicated_deduplication_window = 1000;
