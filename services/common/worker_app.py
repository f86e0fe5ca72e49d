"""The process shell every worker shares: connect, declare, subscribe, serve health.

A worker provides its settings, a name and one `Execute` per job type it handles;
this module wires each type to its durable pull consumer, with manual acks and one
fetch per free slot (`settings.max_concurrent_jobs` slots, shared by the types: see
slot_puller.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import JobType, streams

from . import jetstream
from .adapters.nats import EventPublisher, make_broker, stream_settings
from .adapters.s3 import ObjectStore, output_key
from .http import HealthServer
from .job_context import Execute
from .job_runner import WORKER_ID, JobRunner
from .lag import ConsumerLag
from .logging import get_logger
from .metrics import IN_FLIGHT, JOB_SECONDS, JOBS
from .replica_beacon import ReplicaBeacon
from .result_offload import ResultOffload
from .run_lease import RunLeases
from .scratch import sweep_leftovers
from .settings import WorkerSettings
from .signals import wait_for_stop_signal
from .slot_puller import JobSlots, SlotPuller
from .startup import wait_for
from .worker_policy import WorkerPolicy

log = get_logger(__name__)
ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


@dataclass
class Worker:
    """What `run_worker` sets up: the broker, its JetStream context, one runner a type."""

    name: str
    settings: WorkerSettings
    broker: NatsBroker
    js: JetStreamContext
    runners: list[JobRunner] = field(default_factory=list)
    pullers: list[SlotPuller] = field(default_factory=list)
    identity: str | None = None


async def run_worker(
    name: str,
    settings: WorkerSettings,
    handlers: Mapping[JobType, Execute],
    *,
    identity: str | None = None,
    store: ObjectStore | None = None,
    slots: JobSlots | None = None,
) -> None:
    """`identity`: what produces the results (model, tool version), announced in the
    workers KV bucket for the ledger's result cache. `store`: partial outputs of a
    cancelled job are deleted from it. `slots`: how the replica takes jobs (default: up
    to `settings.max_concurrent_jobs`, whenever one is free; see `DemandSlots`).

    On SIGTERM/SIGINT the worker stops pulling, lets the jobs in hand finish for
    `settings.shutdown_grace_s`, then stops them and hands them back (nak: another
    replica takes them at once), and returns."""
    for notice in settings.deprecations:
        log.warning("deprecated setting", notice=notice)
    swept = sweep_leftovers(getattr(settings, "work_dir", None))
    if swept:
        log.info("removed scratch directories of killed processes", count=swept)
    worker = await _connect(name, settings)
    worker.identity = identity
    publisher = EventPublisher(worker.js, name)
    if identity is not None:
        await _announce(worker, handlers, identity)
    policy = WorkerPolicy.from_settings(settings)
    slots = slots or JobSlots(settings.max_concurrent_jobs)
    leases = RunLeases(
        await jetstream.running_kv(worker.js, stream_settings(settings)),
        f"{name}@{WORKER_ID}",
        lease_s=settings.ack_wait_s * 1.5,  # see run_lease.py
    )
    for job_type, execute in handlers.items():
        runner = JobRunner(
            worker.broker.connection,
            publisher,
            execute,
            policy,
            job_type.value,
            on_outcome=_recorder(job_type),
            identity=identity,
            discard=_discarder(store),
            leases=leases,
            offload=ResultOffload(store, settings.result_message_max_bytes),
        )
        await _subscribe(worker, job_type, runner, policy, slots, len(handlers))
    await _serve(worker, handlers)


async def _connect(name: str, settings: WorkerSettings) -> Worker:
    # FastStream waits for running handlers when it stops; our own timer hands jobs back
    # before that wait would give up.
    broker = make_broker(settings, name, graceful_timeout=settings.shutdown_grace_s + 60.0)
    await wait_for("nats", broker.connect)
    js = broker.connection.jetstream()
    await jetstream.ensure_streams(js, stream_settings(settings))
    return Worker(name, settings, broker, js)


async def _announce(worker: Worker, handlers: Mapping[JobType, Execute], identity: str) -> None:
    """Name what produces each type's results in the workers KV bucket (result cache)."""
    kv = await jetstream.workers_kv(worker.js, stream_settings(worker.settings))
    for job_type in handlers:
        await kv.put(streams.model_key(job_type), identity.encode())


def _recorder(job_type: JobType) -> Callable[[str, float], None]:
    def record(outcome: str, seconds: float) -> None:
        JOBS.labels(type=job_type.value, outcome=outcome).inc()
        JOB_SECONDS.labels(type=job_type.value).observe(seconds)

    return record


def _discarder(store: ObjectStore | None) -> Callable[[UUID], Awaitable[None]]:
    async def discard(job_id: UUID) -> None:
        if store is not None:
            await store.remove_prefix(output_key(job_id, ""))

    return discard


async def _subscribe(
    worker: Worker,
    job_type: JobType,
    runner: JobRunner,
    policy: WorkerPolicy,
    slots: JobSlots,
    types: int,
) -> None:
    """The type's durable consumer (created or updated) and a puller on it."""
    consumer = jetstream.worker_consumer(
        # Unbounded: the runner ends a job after `policy.max_deliver` attempts itself, also
        # one whose every attempt was cut short (no outcome, so no nak counted them).
        job_type,
        ack_wait_s=worker.settings.ack_wait_s,
        max_deliver=-1,
    )
    await jetstream.ensure_consumer(worker.js, streams.JOBS_STREAM, consumer)

    async def handle(msg: Msg) -> None:
        IN_FLIGHT.labels(type=job_type.value).inc()
        try:
            await runner.handle(msg)
        finally:
            IN_FLIGHT.labels(type=job_type.value).dec()

    puller = SlotPuller(
        worker.js,
        streams.JOBS_STREAM,
        consumer.durable_name or "",
        handle,
        slots,
        # A puller waiting on an empty consumer holds a slot: with several types, short
        # waits let the slot go round to the others.
        fetch_timeout_s=5.0 if types == 1 else 1.0,
    )
    worker.runners.append(runner)
    worker.pullers.append(puller)


async def _serve(worker: Worker, handlers: Mapping[JobType, Execute]) -> None:
    """Pull until SIGTERM/SIGINT, with the health port and consumer lag, then stop."""
    settings = worker.settings

    async def ready() -> dict[str, bool]:
        return {"nats": worker.broker.connection.is_connected}

    health = HealthServer(settings.health_host, settings.health_port, ready)
    lag = ConsumerLag(
        worker.js, [(streams.JOBS_STREAM, streams.worker_consumer_name(t)) for t in handlers]
    )
    beacon = ReplicaBeacon(
        worker.js,
        worker.name,
        f"{WORKER_ID}-{os.getpid()}",  # one host may run several replicas (make dev)
        handlers,
        worker.identity,
        stream_settings(settings).replicas,
    )
    await worker.broker.start()
    for puller in worker.pullers:
        await puller.start()
    await lag.start()
    await beacon.start()
    if settings.health_port:
        await health.start()
    log.info(f"{worker.name} started", handles=[t.value for t in handlers])
    try:
        await wait_for_stop_signal()
    finally:
        log.info(f"{worker.name} stopping", grace_s=settings.shutdown_grace_s)
        await lag.stop()
        await _drain(worker)
        await beacon.stop()  # after the jobs in hand: until then it still works
        if settings.health_port:
            await health.stop()
        log.info(f"{worker.name} stopped")


async def _drain(worker: Worker) -> None:
    """Stop pulling and wait for the jobs in hand; after the grace period, hand them back."""

    async def hand_back_after_grace() -> None:
        await asyncio.sleep(worker.settings.shutdown_grace_s)
        handed = sum(r.hand_back_all() for r in worker.runners)
        if handed:
            log.info("grace period over: handing jobs back", jobs=handed)

    timer = asyncio.create_task(hand_back_after_grace())
    for puller in worker.pullers:  # no new jobs
        await puller.stop_pulling()
    for puller in worker.pullers:  # the jobs in hand settled (done, or handed back)
        await puller.wait_idle()
    timer.cancel()
    await worker.broker.stop()
