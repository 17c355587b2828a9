-- The alerter's grouping facts on each delivery row: which page (delivery_id, stable across
-- retries and restarts) carried the alert, under which dedup key, with how many alerts, and
-- to which destination type. Answers "which page told on-call about this alert, and how
-- many alerts did it stand for" without joining alert state.
ALTER TABLE {db:Identifier}.alert_deliveries
    ADD COLUMN IF NOT EXISTS destination_type LowCardinality(String) DEFAULT '' AFTER destination,
    ADD COLUMN IF NOT EXISTS delivery_id String DEFAULT '' AFTER destination_type,
    ADD COLUMN IF NOT EXISTS dedup_key String DEFAULT '' AFTER delivery_id,
    ADD COLUMN IF NOT EXISTS group_count UInt32 DEFAULT 1 AFTER dedup_key;
