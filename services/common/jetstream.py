"""JetStream set-up: stream and consumer configurations and their idempotent creation.

Every service calls `ensure_streams` at start-up; it creates what is missing and
updates what differs, so it is safe to run from every replica. The names come from
`contracts.streams`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from contracts import JobType, subjects
from contracts.streams import (
    DEAD_LETTERS_STREAM,
    DUPLICATE_WINDOW_S,
    EVENTS_STREAM,
    JOBS_STREAM,
    LEDGER_DEAD_LETTERS_CONSUMER,
    LEDGER_EVENTS_CONSUMER,
    LEDGER_SUBMIT_CONSUMER,
    RUNNING_KV,
    RUNNING_KV_MAX_AGE_S,
    WORKERS_KV,
    worker_consumer_name,
)

from .logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    replicas: int = 1
    events_max_age_s: float = 7 * 24 * 3600
    events_max_bytes: int = -1


def jobs_stream(s: StreamSettings) -> StreamConfig:
    # Work-queue retention: a message leaves the stream once a consumer acks it.
    # Each subject has exactly one consumer (a filtered durable per job type / submit).
    return StreamConfig(
        name=JOBS_STREAM,
        subjects=[subjects.JOBS_RUN_ALL, subjects.JOBS_SUBMIT],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=s.replicas,
        duplicate_window=DUPLICATE_WINDOW_S,
        discard=DiscardPolicy.OLD,
    )


def events_stream(s: StreamSettings) -> StreamConfig:
    return StreamConfig(
        name=EVENTS_STREAM,
        subjects=[subjects.JOBS_EVENTS_ALL],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=s.replicas,
        max_age=s.events_max_age_s,
        max_bytes=s.events_max_bytes,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


def dead_letters_stream(s: StreamSettings) -> StreamConfig:
    # Kept until the ledger records them (and a month at most if it never does).
    return StreamConfig(
        name=DEAD_LETTERS_STREAM,
        subjects=[subjects.JOBS_DEAD_ALL],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=s.replicas,
        max_age=30 * 24 * 3600,
        max_msg_size=64 * 1024,
    )


def worker_consumer(
    job_type: JobType | str,
    *,
    ack_wait_s: float = 60.0,
    max_deliver: int = 5,
    max_ack_pending: int = 1000,
    backoff_s: list[float] | None = None,
) -> ConsumerConfig:
    """Durable pull consumer a worker pool shares for one job type.

    `max_ack_pending` bounds the whole pool (it is per consumer, not per replica); each
    replica takes only as many jobs as it has free slots by fetching that many at a time.

    `ack_wait` stays short because workers heartbeat (`in_progress`) while they work,
    so a dead worker's job comes back within about a minute.
    """
    return ConsumerConfig(
        durable_name=worker_consumer_name(job_type),
        filter_subject=subjects.run_subject(job_type),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_deliver=max_deliver,
        max_ack_pending=max_ack_pending,
        backoff=backoff_s,
    )


def ledger_submit_consumer(max_deliver: int = 5) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=LEDGER_SUBMIT_CONSUMER,
        filter_subject=subjects.JOBS_SUBMIT,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_deliver=max_deliver,
        max_ack_pending=1000,
    )


def ledger_events_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=LEDGER_EVENTS_CONSUMER,
        filter_subject=subjects.JOBS_EVENTS_ALL,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        # A batch is stored within milliseconds; what a killed ledger had fetched comes
        # back to another (or the restarted) one after this.
        ack_wait=15.0,
        max_deliver=-1,
        max_ack_pending=20000,
    )


def ledger_dead_letters_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=LEDGER_DEAD_LETTERS_CONSUMER,
        filter_subject=subjects.JOBS_DEAD_ALL,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_deliver=-1,  # only a database outage fails it: wait it out
        max_ack_pending=1000,
    )


async def ensure_streams(
    js: JetStreamContext, s: StreamSettings | None = None, attempts: int = 6
) -> None:
    """Create or update the streams (idempotent).

    Services starting together on a cluster race here: one's `update_stream` of a
    replicated stream while another's `add_stream` is still being placed gets no answer
    (a timeout) or "already in use". Both are retried; the second try finds the stream."""
    s = s or StreamSettings()
    for cfg in (jobs_stream(s), events_stream(s), dead_letters_stream(s)):
        for attempt in range(1, attempts + 1):
            try:
                await _ensure_stream(js, cfg)
                break
            except (NatsTimeoutError, BadRequestError) as exc:
                if attempt == attempts:
                    raise
                log.info("stream not settled yet, again", stream=cfg.name, error=str(exc))
                await asyncio.sleep(0.5 * attempt)


async def _ensure_stream(js: JetStreamContext, cfg: StreamConfig) -> None:
    try:
        await js.stream_info(cfg.name or "")
    except NotFoundError:
        await js.add_stream(cfg)
    else:
        await js.update_stream(cfg)


async def ensure_consumer(js: JetStreamContext, stream: str, cfg: ConsumerConfig) -> None:
    """Create a durable consumer or bring its config up to date (idempotent)."""
    await js.add_consumer(stream, cfg)


async def workers_kv(js: JetStreamContext, s: StreamSettings | None = None) -> KeyValue:
    """The key-value bucket where each worker pool announces its model (idempotent)."""
    try:
        return await js.key_value(WORKERS_KV)
    except (BucketNotFoundError, NotFoundError):
        s = s or StreamSettings()
        return await js.create_key_value(
            KeyValueConfig(bucket=WORKERS_KV, history=1, replicas=s.replicas)
        )


async def running_kv(js: JetStreamContext, s: StreamSettings | None = None) -> KeyValue:
    """The bucket of run leases (idempotent)."""
    try:
        return await js.key_value(RUNNING_KV)
    except (BucketNotFoundError, NotFoundError):
        s = s or StreamSettings()
        return await js.create_key_value(
            KeyValueConfig(
                bucket=RUNNING_KV, history=1, ttl=RUNNING_KV_MAX_AGE_S, replicas=s.replicas
            )
        )
