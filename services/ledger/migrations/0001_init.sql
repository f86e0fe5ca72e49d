-- jetscribe ledger: files, jobs, append-only events and the dispatch outbox.

CREATE TABLE files (
    id            uuid PRIMARY KEY,
    owner         text        NOT NULL,
    object_key    text        NOT NULL,
    filename      text        NOT NULL,
    content_type  text        NOT NULL,
    size          bigint      NOT NULL,
    sha256        text,
    duration_s    double precision,
    job_id        uuid,               -- the job that produced it (outputs)
    created_at    timestamptz NOT NULL DEFAULT now(),
    ttl_deadline  timestamptz,
    deleted_at    timestamptz
);
CREATE INDEX files_owner_created ON files (owner, created_at DESC);

CREATE TABLE jobs (
    id                      uuid PRIMARY KEY,
    owner                   text        NOT NULL,
    type                    text        NOT NULL,
    status                  text        NOT NULL,
    options                 jsonb       NOT NULL DEFAULT '{}'::jsonb,
    file_id                 uuid,
    file_ids                uuid[],
    output_file_ids         uuid[]      NOT NULL DEFAULT '{}',
    result                  jsonb,
    error_code              text,
    error_message           text,
    attempt                 integer     NOT NULL DEFAULT 1,
    progress                double precision NOT NULL DEFAULT 0,
    language                text,
    parent_id               uuid,
    pipeline                jsonb,      -- steps still to run after this one (`then`)
    pipeline_root           uuid,
    pipeline_index          integer,
    correlation_id          text,
    idempotency_key         text,
    callback_url            text,
    retention_hours         double precision,
    delete_after_retrieval  boolean     NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    started_at              timestamptz,
    finished_at             timestamptz,
    retrieved_at            timestamptz,
    ttl_deadline            timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC);
CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX jobs_ttl ON jobs (ttl_deadline) WHERE ttl_deadline IS NOT NULL AND status <> 'expired';

-- Append-only, idempotent on event_id; `seq` is the order the ledger received them.
CREATE TABLE job_events (
    seq          bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    job_id       uuid        NOT NULL,
    kind         text        NOT NULL,
    attempt      integer     NOT NULL,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    payload      jsonb       NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, seq);

-- Transactional outbox: written with the job, published after commit, re-published
-- on start-up (and periodically) until JetStream confirms it.
CREATE TABLE outbox (
    id            bigserial   PRIMARY KEY,
    subject       text        NOT NULL,
    msg_id        text        NOT NULL,
    payload       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
