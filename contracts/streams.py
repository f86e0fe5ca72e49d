"""Names of the JetStream layout: streams, durable consumers and the workers KV bucket.

Names only (no client code): the stream and consumer *configurations* and their
idempotent creation live with the services (`services/common/jetstream.py`), so an
upstream system can import the contracts with pydantic alone.
"""

from __future__ import annotations

from .enums import JobType

JOBS_STREAM = "JOBS"
EVENTS_STREAM = "JOB_EVENTS"
DEAD_LETTERS_STREAM = "DEAD_LETTERS"
"""`jobs.dead.>`: messages consumers gave up, until the ledger has recorded them."""

DUPLICATE_WINDOW_S = 300.0
"""Both streams drop a message whose `Nats-Msg-Id` they saw this recently."""

LEDGER_SUBMIT_CONSUMER = "ledger-submit"
LEDGER_EVENTS_CONSUMER = "ledger-events"
LEDGER_DEAD_LETTERS_CONSUMER = "ledger-dead-letters"

REPLICAS_KV = "jetscribe_replicas"
"""Key-value bucket where each worker replica says it is alive (`replica.<type>.<id>`,
rewritten every `REPLICA_HEARTBEAT_S`; entries of a dead replica age out)."""

REPLICA_HEARTBEAT_S = 20.0
REPLICAS_KV_MAX_AGE_S = 60.0

WORKERS_KV = "jetscribe_workers"
"""Key-value bucket where each worker pool announces what produces its results."""

RUNNING_KV = "jetscribe_running"
"""Key-value bucket of run leases: one key per job being run (`run.<job_id>`), kept
fresh by the replica running it; a second delivery of that job waits instead of
starting a second run."""

RUNNING_KV_MAX_AGE_S = 3600.0
"""Leftover leases (their holder died) leave the bucket after this long; a lease
expires much sooner, at the time written in it."""


def worker_consumer_name(job_type: JobType | str) -> str:
    return f"worker-{JobType(job_type).value}"


def model_key(job_type: JobType | str) -> str:
    return f"model.{JobType(job_type).value}"


def replica_key(job_type: JobType | str, replica: str) -> str:
    """`replica` is kept to the characters a KV key allows."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in replica)
    return f"replica.{JobType(job_type).value}.{safe}"


def run_lease_key(job_id: object) -> str:
    return f"run.{job_id}"
