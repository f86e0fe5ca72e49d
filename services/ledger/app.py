"""job-ledger wiring and lifespan: build the adapters and use cases, start, stop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from contracts import streams
from services.common import jetstream
from services.common.adapters.nats import make_broker, stream_settings
from services.common.adapters.s3 import ObjectStore
from services.common.http import HealthServer
from services.common.lag import ConsumerLag
from services.common.logging import get_logger
from services.common.signals import wait_for_stop_signal
from services.common.startup import wait_for

from .adapters import pg
from .adapters.pg.migrate import apply_migrations
from .builders import PRODUCER
from .dispatcher import Dispatcher
from .handlers import register
from .handlers.events import EventIntake
from .janitor import Janitor
from .ledger import Ledger
from .policy import LedgerPolicy
from .result_cache import ResultCache
from .settings import LedgerSettings
from .webhook_sender import WebhookSender
from .webhooks import WebhookPolicy

log = get_logger(__name__)


class Loop(Protocol):
    """A background part of the ledger (intake, sender, janitor, lag gauges)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Infrastructure:
    pool: pg.Pool
    broker: NatsBroker
    js: JetStreamContext
    kv: KeyValue
    store: ObjectStore


async def connect(settings: LedgerSettings) -> Infrastructure:
    """PostgreSQL (migrated), NATS (streams and the ledger's consumers) and S3."""
    pool = await wait_for(
        "postgresql",
        lambda: pg.create_pool(
            settings.database_url.get_secret_value(), settings.db_pool_min, settings.db_pool_max
        ),
    )
    await apply_migrations(pool)
    broker = make_broker(settings, PRODUCER)
    await wait_for("nats", broker.connect)
    js = broker.connection.jetstream()
    stream_cfg = stream_settings(settings)
    await jetstream.ensure_streams(js, stream_cfg)
    await jetstream.ensure_consumer(
        js, streams.JOBS_STREAM, jetstream.ledger_submit_consumer(settings.submit_max_deliver)
    )
    await jetstream.ensure_consumer(js, streams.EVENTS_STREAM, jetstream.ledger_events_consumer())
    await jetstream.ensure_consumer(
        js, streams.DEAD_LETTERS_STREAM, jetstream.ledger_dead_letters_consumer()
    )
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    kv = await jetstream.workers_kv(js, stream_cfg)
    return Infrastructure(pool, broker, js, kv, store)


def webhook_policy(settings: LedgerSettings) -> WebhookPolicy:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return WebhookPolicy(
        secret=secret,
        allow_private=settings.webhook_allow_private,
        max_attempts=settings.webhook_max_attempts,
        backoff_base_s=settings.webhook_backoff_s,
        timeout_s=settings.webhook_timeout_s,
    )


def build_ledger(
    infra: Infrastructure, settings: LedgerSettings, dispatcher: Dispatcher, sender: WebhookSender
) -> Ledger:
    async def workers() -> KeyValue:
        return infra.kv

    policy = LedgerPolicy(
        retrieval_grace_s=settings.retrieval_grace_s,
        max_batch_files=settings.max_batch_files,
        webhooks_enabled=settings.webhook_secret is not None,
        webhook_allow_private=settings.webhook_allow_private,
        max_reply_bytes=infra.broker.connection.max_payload - 16 * 1024,
    )
    cache = ResultCache(infra.pool, infra.store, workers, min_life_s=settings.cache_min_life_s)
    return Ledger(infra.pool, dispatcher, policy, cache, on_webhooks=sender.wake)


async def run(settings: LedgerSettings) -> None:
    infra = await connect(settings)
    dispatcher = Dispatcher(infra.pool, infra.js, settings.outbox_sweep_s)
    sender = WebhookSender(infra.pool, webhook_policy(settings))
    ledger = build_ledger(infra, settings, dispatcher, sender)
    janitor = Janitor(
        infra.pool,
        infra.store,
        ledger.ingest_own,
        interval_s=settings.janitor_interval_s,
        upload_retention_hours=settings.upload_retention_hours,
        after_round=ledger.cache_hits.serve_stuck,
    )
    if settings.webhook_secret is None:
        log.warning("WEBHOOK_SECRET is not set: jobs with a callback_url are refused")
    register(infra.broker, ledger, settings)
    lag = ConsumerLag(
        infra.js,
        [
            (streams.JOBS_STREAM, streams.LEDGER_SUBMIT_CONSUMER),
            (streams.EVENTS_STREAM, streams.LEDGER_EVENTS_CONSUMER),
            (streams.DEAD_LETTERS_STREAM, streams.LEDGER_DEAD_LETTERS_CONSUMER),
        ],
    )
    intake = EventIntake(infra.js, ledger, settings.events_batch_size)
    await serve(infra, settings, dispatcher, [lag, intake, sender, janitor])


async def serve(
    infra: Infrastructure, settings: LedgerSettings, dispatcher: Dispatcher, loops: list[Loop]
) -> None:
    """Start everything, wait for SIGTERM/SIGINT, stop in reverse order."""
    health = HealthServer(settings.health_host, settings.health_port, lambda: ready(infra))
    await dispatcher.start()  # first: it re-publishes what a stopped ledger left behind
    await infra.broker.start()
    for loop in loops:
        await loop.start()
    if settings.health_port:
        await health.start()
    log.info("job-ledger started", health_port=settings.health_port)
    try:
        await wait_for_stop_signal()
    finally:
        log.info("job-ledger stopping")
        for loop in reversed(loops):
            await loop.stop()
        await infra.broker.stop()
        await dispatcher.stop()
        if settings.health_port:
            await health.stop()
        await infra.pool.close()


async def ready(infra: Infrastructure) -> dict[str, bool]:
    try:
        await infra.pool.fetchval("SELECT 1")
        db = True
    except Exception:
        db = False
    return {
        "postgresql": db,
        "nats": infra.broker.connection.is_connected,
        "s3": await infra.store.ping(),
    }
