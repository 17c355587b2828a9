-- The risk context of an alert (schemas/alert.ts `risk_signals`, `risk_score`; detector
-- baselines/risk.ts): the baseline signals of its task that rode on it, as the JSON text of the
-- array ('' when none), and the task's score then (NULL when none). Kept as text: it is read back
-- whole with the alert (the timeline, the alert API), never filtered on.
ALTER TABLE {db:Identifier}.alerts
    ADD COLUMN IF NOT EXISTS risk_score Nullable(Float64) AFTER link,
    ADD COLUMN IF NOT EXISTS risk_signals String DEFAULT '' CODEC(ZSTD(3)) AFTER risk_score;
