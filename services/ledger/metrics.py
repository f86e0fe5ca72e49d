"""Prometheus metrics of the ledger."""

from prometheus_client import Counter, Histogram

JOBS_CREATED = Counter("jetscribe_ledger_jobs_created_total", "Jobs created", ["type", "source"])
JOBS_REJECTED = Counter(
    "jetscribe_ledger_jobs_rejected_total", "Submissions rejected", ["code", "source"]
)
EVENTS_INGESTED = Counter("jetscribe_ledger_events_ingested_total", "Job events stored", ["kind"])
JOBS_FINISHED = Counter(
    "jetscribe_jobs_finished_total", "Jobs reaching a terminal state", ["type", "status"]
)
OUTBOX_PUBLISHED = Counter("jetscribe_ledger_outbox_published_total", "Outbox rows published")
INGEST_BATCH = Histogram(
    "jetscribe_ledger_ingest_batch_size",
    "Events per ingestion batch",
    buckets=(1, 5, 20, 50, 100, 200, 500, 1000),
)
WEBHOOK_ATTEMPTS = Counter(
    "jetscribe_ledger_webhook_attempts_total", "Webhook delivery attempts", ["outcome"]
)
JOBS_EXPIRED = Counter("jetscribe_ledger_jobs_expired_total", "Jobs whose retention ran out")
OBJECTS_DELETED = Counter(
    "jetscribe_ledger_objects_deleted_total", "S3 objects deleted by retention", ["kind"]
)
CACHE_LOOKUPS = Counter(
    "jetscribe_ledger_cache_lookups_total", "Result cache lookups", ["type", "outcome"]
)
SUBMISSIONS_RETRIED = Counter(
    "jetscribe_ledger_submissions_retried_total",
    "jobs.submit messages not stored yet (database away) and redelivered later",
)
CREATION_GROUP = Histogram(
    "jetscribe_ledger_creation_group_jobs",
    "Jobs of concurrent submissions written in one statement",
    buckets=(1, 2, 4, 8, 16, 32, 64, 100),
)
