-- Lease fencing for BuildRunner writes (DESIGN §4). Each write batch starts with
-- INSERT INTO build_write_fences(build_id, epoch). When the epoch is not the build's
-- current lease_epoch the trigger aborts, and D1 rolls back the whole batch; otherwise
-- RAISE(IGNORE) drops the row, so the table never grows.
CREATE TRIGGER `build_write_fence_check` BEFORE INSERT ON `build_write_fences`
BEGIN
  SELECT RAISE(ABORT, 'stale_lease_epoch')
  WHERE NEW.epoch IS NOT (SELECT lease_epoch FROM builds WHERE build_id = NEW.build_id);
  SELECT RAISE(IGNORE);
END;
