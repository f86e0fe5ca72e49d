"""Prometheus metrics shared by the workers (each worker process has its own registry)."""

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("jetscribe_worker_jobs_total", "Jobs handled", ["type", "outcome"])
JOB_SECONDS = Histogram(
    "jetscribe_worker_job_seconds",
    "Job wall time",
    ["type"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
QUEUE_WAIT = Histogram(
    "jetscribe_worker_queue_wait_seconds",
    "Time from dispatch to start",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
IN_FLIGHT = Gauge("jetscribe_worker_in_flight", "Jobs running now", ["type"])
S3_BYTES = Counter("jetscribe_s3_bytes_total", "Bytes moved to/from S3", ["direction"])
CONSUMER_PENDING = Gauge(
    "jetscribe_consumer_pending",
    "Messages in the stream not yet delivered to the consumer (the backlog)",
    ["stream", "consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "jetscribe_consumer_ack_pending",
    "Messages delivered and not yet acknowledged (in progress)",
    ["stream", "consumer"],
)
DEAD_LETTERS = Counter(
    "jetscribe_dead_letters_total",
    "Messages given up for good (terminated and recorded as dead letters)",
    ["consumer"],
)
