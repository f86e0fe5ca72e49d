-- Lifecycle: result cache keys, the model that produced a result, webhooks, retention.

ALTER TABLE jobs ADD COLUMN cache_key text;      -- sha256 of (type, options, input sha256)
ALTER TABLE jobs ADD COLUMN cache_model text;    -- what produced the result (JobCompleted.model)
ALTER TABLE jobs ADD COLUMN cached_from uuid;    -- a cache hit: the job whose outputs it reuses
CREATE INDEX jobs_cache ON jobs (owner, cache_key, cache_model, finished_at DESC)
    WHERE status = 'completed' AND cache_key IS NOT NULL;
CREATE INDEX jobs_file ON jobs (file_id) WHERE file_id IS NOT NULL;
CREATE INDEX jobs_cached_pending ON jobs (created_at)
    WHERE status = 'pending' AND cached_from IS NOT NULL;
CREATE INDEX files_job ON files (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX files_uploads_live ON files (created_at) WHERE job_id IS NULL AND deleted_at IS NULL;

-- One webhook per job (its terminal state), retried until delivered or given up.
CREATE TABLE webhook_deliveries (
    id               bigserial   PRIMARY KEY,
    job_id           uuid        NOT NULL UNIQUE,
    url              text        NOT NULL,
    payload          bytea       NOT NULL,       -- the exact body that is signed and sent
    status           text        NOT NULL DEFAULT 'pending',  -- pending, delivered, failed
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    delivery_id  bigint      NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer     NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text,
    duration_ms  double precision,
    PRIMARY KEY (delivery_id, attempt)
);
