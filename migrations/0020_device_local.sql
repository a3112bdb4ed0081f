-- Device-local schedules (SPEC 10): {"cron": "0 3 * * *", "timezone": "device"}
-- on a fleet job fires in each device's own zone, as it last reported it.
-- The job keeps one next_fire_at (the earliest next tick over the zones its
-- fleet's devices are in) and device_cursor: every device-local tick at or
-- before it has been handled. A tick of the job is one instant: the run
-- created for it (one per (job, instant), runs_one_per_tick) names the zones
-- whose local time it is in device_zones, and its fleet tasks' members are
-- the devices in those zones. A change of a device that may bring a new
-- zone (created, zone or labels changed) sets next_fire_at of every
-- device-local job to now, so that the ticker plans it again at once.
ALTER TABLE jobs ADD COLUMN device_cursor timestamptz;
ALTER TABLE runs ADD COLUMN device_zones text[];

-- The device-local jobs, for the nudge above (few among many jobs).
CREATE INDEX jobs_device_local ON jobs (id)
    WHERE schedule ->> 'timezone' = 'device' AND deleted_at IS NULL;
