-- The audit record: one row per event, append-only.
--
-- Sort key (tenant, task_id, seq, event_id): a task's timeline is one contiguous range read in
-- order. event_id closes the key so ReplacingMergeTree collapses redelivered copies of an event
-- (same task, seq and id) on merge; reads never rely on that having happened (FINAL or
-- LIMIT 1 BY event_id). Per-agent history uses the `by_agent` projection as a secondary index
-- (it stores only sort key + _part_offset); resources, credentials and event ids use bloom
-- filters. Retention (TTL on received_at) is set by migrate(), not here.
--
-- Nullable envelope columns keep "absent" apart from "empty string", so an event can be rebuilt
-- exactly (envelope columns + `data`) and its hash re-verified (schemas/chain.ts).
CREATE TABLE IF NOT EXISTS {db:Identifier}.events
(
    event_id          String,
    schema_version    UInt8,
    type              LowCardinality(String),
    occurred_at       DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    -- Set by the gateway; when absent, the Kafka message timestamp (same on every redelivery).
    received_at       DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    tenant            LowCardinality(String),
    agent_id          LowCardinality(String),
    agent_instance    Nullable(String),
    workload_identity LowCardinality(Nullable(String)),
    agent_model       LowCardinality(Nullable(String)),
    agent_framework   LowCardinality(Nullable(String)),
    task_id           String,
    parent_task_id    Nullable(String),
    seq               UInt64 CODEC(Delta, ZSTD(1)),
    prev_hash         Nullable(String) CODEC(ZSTD(1)),
    hash              Nullable(String) CODEC(ZSTD(1)),
    trace_id          Nullable(String) CODEC(ZSTD(1)),
    span_id           Nullable(String) CODEC(ZSTD(1)),
    -- Extracted from `data` for filtering; empty when the event type has no such field.
    tool              LowCardinality(String),
    operation         LowCardinality(String),
    resource          String CODEC(ZSTD(1)),
    destination       String CODEC(ZSTD(1)),
    credential_id     String CODEC(ZSTD(1)),
    approval_id       String CODEC(ZSTD(1)),
    outcome           LowCardinality(String),
    data_classes      Array(LowCardinality(String)),
    -- Gateway sightings (outside the hash chain), as parallel arrays: kind, JSON path, fingerprint.
    secret_kinds      Array(LowCardinality(String)),
    secret_paths      Array(String) CODEC(ZSTD(1)),
    secret_fps        Array(String) CODEC(ZSTD(1)),
    entity_kinds      Array(LowCardinality(String)),
    entity_paths      Array(String) CODEC(ZSTD(1)),
    entity_fps        Array(String) CODEC(ZSTD(1)),
    -- The validated payload as JSON text: query with JSONExtract*(data, 'arguments', ...).
    data              String CODEC(ZSTD(3)),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1)),

    INDEX idx_event_id    event_id      TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_resource    resource      TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_credential  credential_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_occurred_at occurred_at   TYPE minmax GRANULARITY 1,
    PROJECTION by_agent (SELECT _part_offset ORDER BY tenant, agent_id, occurred_at)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant, task_id, seq, event_id)
SETTINGS
    -- Keep recent insert-block hashes so a batch retried with the same insert_deduplication_token
    -- (the ingester's retry after a timeout) is dropped on arrival.
    non_replicated_deduplication_window = 1000,
    -- Merges that collapse duplicates rebuild the projection instead of refusing to merge.
    deduplicate_merge_projection_mode = 'rebuild';
