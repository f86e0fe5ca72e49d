"""Gateway application: wiring and lifespan only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import nats
from fastapi import FastAPI

from services.common.adapters.s3 import ObjectStore
from services.common.logging import get_logger
from services.common.startup import wait_for

from . import errors, openapi
from .adapters.ledger import LedgerClient
from .auth import Authenticator, authenticator
from .middleware import RequestMetrics
from .routes import (
    batches,
    console,
    dead_letters,
    events,
    files,
    jobs,
    openai_audio,
    ops,
    queue,
    transcribe_alias,
)
from .settings import GatewaySettings
from .state import Resources

log = get_logger(__name__)
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan_of(settings: GatewaySettings, auth: Authenticator) -> Lifespan:
    """Connect to NATS and S3 (waiting for both), then serve; drain NATS at the end."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nc = await wait_for(
            "nats",
            lambda: nats.connect(**settings.connect_kwargs(), max_reconnect_attempts=-1),  # type: ignore[arg-type]
        )
        store = ObjectStore(settings, settings.s3_public_endpoint)
        await wait_for("s3", store.ensure_bucket)
        app.state.resources = Resources(
            settings=settings,
            nc=nc,
            ledger=LedgerClient(nc, settings.ledger_timeout_s),
            store=store,
            auth=auth,
        )
        log.info("gateway started", port=settings.port)
        try:
            yield
        finally:
            await nc.drain()

    return lifespan


def create_app(settings: GatewaySettings) -> FastAPI:
    auth = authenticator(settings)
    app = FastAPI(
        title="jetscribe",
        version="1",
        description="Transcripts, subtitles, conversion and LLM subtitle fixing as jobs.",
        lifespan=lifespan_of(settings, auth),
    )
    errors.install(app)
    app.add_middleware(RequestMetrics)
    for routes in (
        files,
        jobs,
        events,
        batches,
        openai_audio,
        transcribe_alias,
        dead_letters,
        queue,
        ops,
    ):
        app.include_router(routes.router)
    openapi.install(app)
    console.install(app, settings)
    return app
