"""job-ledger entry point: wiring and lifespan only."""

from __future__ import annotations

import asyncpg
import uvloop
from nats.js.kv import KeyValue

from contracts import streams
from services.common import jetstream
from services.common.http import HealthServer
from services.common.lag import ConsumerLag
from services.common.logging import configure_logging, get_logger
from services.common.messaging import make_broker, stream_settings, wait_for_stop_signal
from services.common.startup import wait_for
from services.common.storage import ObjectStore
from services.common.tracing import configure_tracing

from .dispatcher import Dispatcher
from .handlers import register
from .ingest_loop import EventIntake
from .janitor import Janitor
from .migrate import apply_migrations
from .repository import Repository, init_connection, release_connection
from .result_cache import ResultCache
from .service import Ledger, LedgerPolicy
from .settings import LedgerSettings
from .webhooks import WebhookPolicy, WebhookSender

log = get_logger(__name__)


async def run(settings: LedgerSettings) -> None:
    pool: asyncpg.Pool = await wait_for(
        "postgresql",
        lambda: asyncpg.create_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            init=init_connection,
            reset=release_connection,
        ),
    )
    await apply_migrations(pool)

    broker = make_broker(settings, "job-ledger")
    await wait_for("nats", broker.connect)
    js = broker.connection.jetstream()
    await jetstream.ensure_streams(js, stream_settings(settings))
    await jetstream.ensure_consumer(
        js, streams.JOBS_STREAM, jetstream.ledger_submit_consumer(settings.submit_max_deliver)
    )
    await jetstream.ensure_consumer(js, streams.EVENTS_STREAM, jetstream.ledger_events_consumer())

    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    stream_cfg = stream_settings(settings)
    kv = await jetstream.workers_kv(js, stream_cfg)

    async def workers() -> KeyValue:
        return kv

    repo = Repository(pool)
    dispatcher = Dispatcher(repo, js, settings.outbox_sweep_s)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    sender = WebhookSender(
        repo,
        WebhookPolicy(
            secret=secret,
            allow_private=settings.webhook_allow_private,
            max_attempts=settings.webhook_max_attempts,
            backoff_base_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
        ),
    )
    ledger = Ledger(
        repo,
        dispatcher,
        LedgerPolicy(
            retrieval_grace_s=settings.retrieval_grace_s,
            max_batch_files=settings.max_batch_files,
            webhooks_enabled=secret is not None,
            webhook_allow_private=settings.webhook_allow_private,
        ),
        ResultCache(repo, store, workers, min_life_s=settings.cache_min_life_s),
        on_webhooks=sender.wake,
    )
    janitor = Janitor(
        repo,
        store,
        lambda events: ledger.ingest(events, own=True),
        interval_s=settings.janitor_interval_s,
        upload_retention_hours=settings.upload_retention_hours,
        after_round=ledger.serve_stuck_cache_hits,
    )
    if secret is None:
        log.warning("WEBHOOK_SECRET is not set: jobs with a callback_url are refused")
    register(broker, ledger, settings)

    async def ready() -> dict[str, bool]:
        try:
            await pool.fetchval("SELECT 1")
            db = True
        except Exception:
            db = False
        return {
            "postgresql": db,
            "nats": broker.connection.is_connected,
            "s3": await store.ping(),
        }

    health = HealthServer(settings.health_host, settings.health_port, ready)
    intake = EventIntake(js, ledger, settings.events_batch_size)
    lag = ConsumerLag(
        js,
        [
            (streams.JOBS_STREAM, streams.LEDGER_SUBMIT_CONSUMER),
            (streams.EVENTS_STREAM, streams.LEDGER_EVENTS_CONSUMER),
        ],
    )
    await dispatcher.start()
    await broker.start()
    await lag.start()
    await intake.start()
    await sender.start()
    await janitor.start()
    if settings.health_port:
        await health.start()
    log.info("job-ledger started", health_port=settings.health_port)
    try:
        await wait_for_stop_signal()
    finally:
        log.info("job-ledger stopping")
        await lag.stop()
        await janitor.stop()
        await sender.stop()
        await intake.stop()
        await broker.stop()
        await dispatcher.stop()
        if settings.health_port:
            await health.stop()
        await pool.close()


def main() -> None:
    settings = LedgerSettings()
    configure_logging("job-ledger", settings.log_level, settings.log_json)
    configure_tracing("job-ledger")
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
