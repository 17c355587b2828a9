-- Reads that the sort key (tenant, task_id, seq, event_id) leaves to a scan of the whole tenant,
-- measured on a 10M-event record (`npm run bench -- query`, README "Benchmarks"):
--
-- by_agent_keys: agent history's page of keys (read/events.ts history: task_id, seq, event_id of
-- the newest matches, then the wide columns of those rows by the sort key). The page needs the
-- keys in (tenant, agent_id, occurred_at) order; by_agent stores only _part_offset and the
-- planner does not use it for this read, so this projection carries the key columns themselves
-- (a few bytes per event: no `data`). Also serves count() by agent and time.
--
-- by_resource: resource search (read/events.ts touched, "who touched s3://payroll/**"): the
-- columns it reads in (tenant, resource) order, so a glob's literal prefix (the anchored regex
-- match() is given) selects a key range instead of a regex over every resource of the tenant.
-- Destinations are searched less often and stay a scan of the tenant.
--
-- idx_parent_task: a task's delegation children (read/events.ts children) without reading the
-- parent_task_id of every event of the tenant on every timeline.
--
-- MATERIALIZE runs as a background mutation on existing parts; new parts get them on insert.
-- Cost on the 10M-event seed: +98 MiB (by_agent_keys) and +208 MiB (by_resource) on 848 MiB.
ALTER TABLE {db:Identifier}.events
    ADD PROJECTION IF NOT EXISTS by_agent_keys
        (SELECT tenant, agent_id, occurred_at, event_id, task_id, seq ORDER BY tenant, agent_id, occurred_at);
ALTER TABLE {db:Identifier}.events MATERIALIZE PROJECTION by_agent_keys;
ALTER TABLE {db:Identifier}.events
    ADD PROJECTION IF NOT EXISTS by_resource
        (SELECT tenant, type, agent_id, task_id, resource, destination, operation, occurred_at, event_id
         ORDER BY tenant, resource);
ALTER TABLE {db:Identifier}.events MATERIALIZE PROJECTION by_resource;
ALTER TABLE {db:Identifier}.events
    ADD INDEX IF NOT EXISTS idx_parent_task parent_task_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE {db:Identifier}.events MATERIALIZE INDEX idx_parent_task;
