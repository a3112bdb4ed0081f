-- Fewer index entries per delivery (issue 18). An UPDATE is HOT (heap-only:
-- no new index entry, the new row version chained from the old one on the
-- same page) only when no column of any index of the table changes, the
-- columns of partial-index predicates included, and the page has room for
-- the new version. A delivery changes task_runs.state twice (pending ->
-- running -> succeeded) and runs.state once (running -> succeeded).
--
-- Every index on runs, task_runs and attempts, and the queries that need it
-- (EXPLAIN on 100,000 single-task runs, a DAG run of 10,000 tasks and a
-- fleet run of 2,000 members; see BENCHMARKS.md):
--
-- runs (state stays in indexes: its updates cannot be HOT, so the aim is
-- the fewest indexes whose predicate a finished run still satisfies):
--   runs_pkey               every read and update by id.
--   runs_one_per_tick       the arbiter of CreateRun/CreateRuns' ON CONFLICT:
--                           exactly one run per tick.
--   runs_by_job             ListRuns by job (a job's runs page), LatestRuns,
--                           ListRuns by job and state.
--   runs_active_by_job      CountActiveRuns, OldestQueuedRun, PreparedRuns,
--                           JobsWithQueuedRuns (the recorder, per batch), and
--                           ListRuns?state=running|queued.
--   runs_due                ClaimTimedOutRuns (the timeout sweep).
--   runs_by_state (state, id DESC), dropped: a run had an entry for every
--                           version, and two per delivery. What needs a
--                           state without a job is ListRuns?state= and
--                           FailedRunsForReplay (state = 'failed'); running
--                           and queued runs are in runs_active_by_job, and
--                           succeeded runs are most runs: the primary key
--                           read backwards finds them at once. The rest is
--                           runs_ended_unsuccessful below, which a run
--                           that succeeds never enters.
--
-- task_runs (after this file, no index holds state, attempts, started_at,
-- finished_at or last_error: the delivery's two updates are HOT when the
-- page has room, hence fillfactor 90):
--   task_runs_pkey          every read and update by id (BeginAttempts,
--                           SettleTaskRuns, the DAG advance, the FK of
--                           attempts, rollouts and members).
--   task_runs_one_per_task  one task run per task (unique); ListTaskRuns,
--                           TaskStateCounts, ListTaskRunsFirst, TaskResults,
--                           ListRunAttempts, FleetTaskOfRun (run_id with
--                           fleet_of IS NULL).
--   task_runs_members       one member per device and wave (unique);
--                           RolloutCounts, SendWaves, HoldMembers,
--                           CancelMembers, ReviveMembers, ListMembers, the
--                           FK of fleet_of (ON DELETE CASCADE).
--   task_runs_unsettled (run_id) WHERE state NOT IN (final states), dropped:
--                           its predicate holds state, so that no update of
--                           a task run's state was HOT, and a delivery wrote
--                           8 index entries on task_runs.
--   task_runs_by_run (run_id), new, for what task_runs_unsettled served and
--                           what found no index at all: SettleRuns' NOT
--                           EXISTS and CancelTaskRuns (a run's task runs,
--                           members included), the run cancel's search for
--                           its River jobs (jobs/control.go, a sequential
--                           scan of task_runs until now) and the metrics'
--                           waiting task runs (through the active runs). It
--                           costs one entry per task run inserted, as
--                           task_runs_unsettled did, and none per update.
--
-- attempts (inserted, and updated only when a rescued attempt is recorded
-- again):
--   attempts_pkey           ON CONFLICT of RecordAttempts and LoseAttempts,
--                           ListAttemptsOf, ListRunAttempts, the failed
--                           devices of a task run, the FK of task_runs.
--   attempts_by_device      DeviceAttempts (a device's page); partial, so
--                           attempts not placed on a device have no entry.
DROP INDEX runs_by_state;
CREATE INDEX runs_ended_unsuccessful ON runs (state, id DESC)
    WHERE state IN ('failed', 'cancelled', 'timed_out', 'skipped');

DROP INDEX task_runs_unsettled;
CREATE INDEX task_runs_by_run ON task_runs (run_id);

-- Room on each page for the versions of HOT updates (new pages only;
-- existing pages fill up to it as they are rewritten or vacuumed).
ALTER TABLE task_runs SET (fillfactor = 90);
