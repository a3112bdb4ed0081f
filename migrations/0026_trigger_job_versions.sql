-- Manual triggers keep the single-task jobs they read (issue 18): a batch
-- of triggers whose jobs a replica has read before inserts their runs
-- without reading the jobs again, one round trip fewer, and this function
-- checks, in the runs' insert, that each job is still the row version the
-- replica read (its xmin, which every UPDATE of the row changes, the
-- ticker's included) and not deleted. When one is not, it ends the
-- transaction as a serialization failure (40001), which store.InTx runs
-- again; the replica forgets what it kept of the batch's jobs and reads
-- them afresh. ids and versions pair up (jobs.xmin as text); a job may be
-- listed more than once. STABLE, with constant arguments: PostgreSQL
-- evaluates it once per statement, as a one-time filter, in the
-- statement's snapshot.
CREATE FUNCTION herald_jobs_unchanged(ids uuid[], versions text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT count(*) FROM unnest(ids, versions) AS u(id, version)
        JOIN jobs j ON j.id = u.id AND j.xmin::text = u.version AND j.deleted_at IS NULL)
       <> coalesce(cardinality(ids), 0) THEN
        RAISE EXCEPTION 'a job changed since this replica read it'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN true;
END
$$;
