-- The River jobs of ticks (kind herald.fire) that 0008 replaced: the jobs
-- table's next_fire_at already holds each job's next tick. Kept out of
-- sqlc's schema, which does not know River's tables.
DELETE FROM river_job WHERE kind = 'herald.fire';
