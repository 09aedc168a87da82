-- The `clarity_builds{status}` gauge (src/ops/metrics.events.ts) moves with the status transitions
-- of every BuildRunner write batch. Builds that existed before this migration are counted once
-- here. Apply migrations before deploying the version that moves the gauge (docs/deploy.md).
INSERT INTO `ops_counters` (`tenant_id`, `name`, `labels`, `value`, `updated_at`)
SELECT `tenant_id`, 'clarity_builds', 'status="' || `status` || '"', count(*), strftime('%Y-%m-%dT%H:%M:%S.000000Z', 'now')
FROM `builds`
GROUP BY `tenant_id`, `status`;
