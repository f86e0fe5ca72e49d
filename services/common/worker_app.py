"""The process shell every worker shares: connect, declare, subscribe, serve health.

A worker provides its settings, a name and one `Execute` per job type it handles;
this module wires each type to its durable pull consumer through FastStream, with
manual acks and one fetch per free slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

from faststream import AckPolicy
from faststream.nats import JStream, NatsMessage, PullSub

from contracts import JobType, streams

from . import jetstream
from .http import HealthServer
from .lag import ConsumerLag
from .logging import get_logger
from .messaging import EventPublisher, make_broker, stream_settings, wait_for_stop_signal
from .metrics import IN_FLIGHT, JOB_SECONDS, JOBS
from .settings import ServiceSettings
from .startup import wait_for
from .storage import ObjectStore, output_key
from .worker import Execute, JobRunner, WorkerPolicy

log = get_logger(__name__)


async def run_worker(
    name: str,
    settings: ServiceSettings,
    handlers: Mapping[JobType, Execute],
    policy: WorkerPolicy,
    slots: int,
    ack_wait_s: float,
    extra_ready: Callable[[], Awaitable[dict[str, bool]]] | None = None,
    identity: str | None = None,
    store: ObjectStore | None = None,
    shutdown_grace_s: float = 30.0,
) -> None:
    """`identity`: what produces the results (model, tool version), announced in the
    workers KV bucket for the ledger's result cache. `store`: partial outputs of a
    cancelled job are deleted from it.

    On SIGTERM/SIGINT the worker stops pulling, lets the jobs in hand finish for
    `shutdown_grace_s`, then stops them and hands them back (nak: another replica takes
    them at once), and returns."""
    # FastStream waits for running handlers when it stops; our own timer hands jobs back
    # before that wait would give up.
    broker = make_broker(settings, name, graceful_timeout=shutdown_grace_s + 60.0)
    await wait_for("nats", broker.connect)
    js = broker.connection.jetstream()
    cfg = stream_settings(settings)
    await jetstream.ensure_streams(js, cfg)
    publisher = EventPublisher(js, name)
    if identity is not None:
        kv = await jetstream.workers_kv(js, cfg)
        for job_type in handlers:
            await kv.put(streams.model_key(job_type), identity.encode())

    async def discard(job_id: UUID) -> None:
        if store is not None:
            await store.remove_prefix(output_key(job_id, ""))

    runners: list[JobRunner] = []
    for job_type, execute in handlers.items():
        consumer = jetstream.worker_consumer(
            job_type, ack_wait_s=ack_wait_s, max_deliver=policy.max_deliver
        )
        await jetstream.ensure_consumer(js, streams.JOBS_STREAM, consumer)

        def record(outcome: str, seconds: float, t: str = job_type.value) -> None:
            JOBS.labels(type=t, outcome=outcome).inc()
            JOB_SECONDS.labels(type=t).observe(seconds)

        runner = JobRunner(
            broker.connection,
            publisher,
            execute,
            policy,
            job_type.value,
            record,
            identity=identity,
            discard=discard,
        )
        runners.append(runner)

        async def handle(
            msg: NatsMessage, runner: JobRunner = runner, t: str = job_type.value
        ) -> None:
            IN_FLIGHT.labels(type=t).inc()
            try:
                await runner.handle(msg)
            finally:
                IN_FLIGHT.labels(type=t).dec()

        broker.subscriber(
            consumer.filter_subject or "",
            stream=JStream(streams.JOBS_STREAM, declare=False),
            durable=consumer.durable_name,
            config=consumer,
            # One fetch per free slot: the replica never holds more jobs than it can run.
            pull_sub=PullSub(batch_size=slots, timeout=5.0),
            ack_policy=AckPolicy.MANUAL,
            title=consumer.filter_subject,
        )(handle)

    async def ready() -> dict[str, bool]:
        checks = {"nats": broker.connection.is_connected}
        if extra_ready is not None:
            checks.update(await extra_ready())
        return checks

    health = HealthServer(settings.health_host, settings.health_port, ready)
    lag = ConsumerLag(
        js, [(streams.JOBS_STREAM, streams.worker_consumer_name(t)) for t in handlers]
    )
    await broker.start()
    await lag.start()
    if settings.health_port:
        await health.start()
    log.info(f"{name} started", handles=[t.value for t in handlers])
    try:
        await wait_for_stop_signal()
    finally:
        log.info(f"{name} stopping", grace_s=shutdown_grace_s)

        async def hand_back_after_grace() -> None:
            await asyncio.sleep(shutdown_grace_s)
            handed = sum(r.hand_back_all() for r in runners)
            if handed:
                log.info("grace period over: handing jobs back", jobs=handed)

        await lag.stop()
        timer = asyncio.create_task(hand_back_after_grace())
        await broker.stop()  # no new jobs; returns once the jobs in hand are done
        timer.cancel()
        if settings.health_port:
            await health.stop()
        log.info(f"{name} stopped")
