"""job-ledger entry point: wiring and lifespan only."""

from __future__ import annotations

import asyncpg
import uvloop

from contracts import streams
from services.common.http import HealthServer
from services.common.logging import configure_logging, get_logger
from services.common.messaging import make_broker, stream_settings, wait_for_stop_signal
from services.common.startup import wait_for

from .dispatcher import Dispatcher
from .handlers import register
from .ingest_loop import EventIntake
from .migrate import apply_migrations
from .repository import Repository, init_connection, release_connection
from .service import Ledger
from .settings import LedgerSettings

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
    await streams.ensure_streams(js, stream_settings(settings))
    await streams.ensure_consumer(
        js, streams.JOBS_STREAM, streams.ledger_submit_consumer(settings.submit_max_deliver)
    )
    await streams.ensure_consumer(js, streams.EVENTS_STREAM, streams.ledger_events_consumer())

    repo = Repository(pool)
    dispatcher = Dispatcher(repo, js, settings.outbox_sweep_s)
    ledger = Ledger(repo, dispatcher)
    register(broker, ledger, settings)

    async def ready() -> dict[str, bool]:
        try:
            await pool.fetchval("SELECT 1")
            db = True
        except Exception:
            db = False
        return {"postgresql": db, "nats": broker.connection.is_connected}

    health = HealthServer(settings.health_host, settings.health_port, ready)
    intake = EventIntake(js, ledger, settings.events_batch_size)
    await dispatcher.start()
    await broker.start()
    await intake.start()
    if settings.health_port:
        await health.start()
    log.info("job-ledger started", health_port=settings.health_port)
    try:
        await wait_for_stop_signal()
    finally:
        log.info("job-ledger stopping")
        await intake.stop()
        await broker.stop()
        await dispatcher.stop()
        if settings.health_port:
            await health.stop()
        await pool.close()


def main() -> None:
    settings = LedgerSettings()
    configure_logging("job-ledger", settings.log_level, settings.log_json)
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
