-- Messages a consumer gave up for good (contracts.DeadLetter), for operators to list.
CREATE TABLE dead_letters (
    id          bigserial   PRIMARY KEY,
    consumer    text        NOT NULL,
    subject     text        NOT NULL,
    stream      text,
    stream_seq  bigint,
    delivered   integer     NOT NULL,
    reason      text        NOT NULL,
    excerpt     text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
-- One record per stream message and consumer, however often it is reported.
CREATE UNIQUE INDEX dead_letters_message ON dead_letters (consumer, stream, stream_seq)
    WHERE stream_seq IS NOT NULL;
