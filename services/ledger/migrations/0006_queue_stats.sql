-- The queue view (GET /v1/queue) reads the live jobs and the last hour's outcomes by
-- type: these keep it an index scan however many finished jobs the table holds.
CREATE INDEX jobs_live_by_type ON jobs (type, created_at) INCLUDE (status)
    WHERE status IN ('pending', 'processing');
CREATE INDEX jobs_finished_by_time ON jobs (finished_at)
    WHERE status IN ('completed', 'failed');
