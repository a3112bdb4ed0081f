-- The queued runs of a job, alone (issue 18). The recorder asks, for every
-- single-task run it ends, whether its job has a run queued behind it
-- (EndSoloRuns' job_has_queued; JobsWithQueuedRuns for DAG runs), and
-- OldestQueuedRun takes the oldest. runs_active_by_job holds the running
-- runs too: a job triggered hundreds of times a second with overlap=allow
-- has that many running, each visited to find none queued. A run enters this
-- index only while queued, so a run that is never queued (every run of a job
-- whose overlap is allow or skip) costs it nothing.
CREATE INDEX runs_queued_by_job ON runs (job_id, id) WHERE state = 'queued';
