"""Gateway application: wiring and lifespan only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import subjects
from services.common import tracing
from services.common.logging import get_logger
from services.common.startup import wait_for
from services.common.storage import ObjectStore

from . import errors
from .auth import Authenticator, RateLimiter, load_keys
from .ledger_client import LedgerClient
from .metrics import LATENCY, REQUESTS
from .routes import batches, events, files, jobs, transcribe_alias
from .settings import GatewaySettings
from .state import Resources

log = get_logger(__name__)


class RequestMetrics:
    """Pure ASGI middleware (BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # The caller's trace (W3C traceparent), or a new one: carried on to the ledger.
        incoming = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        token = otel_context.attach(tracing.extract(incoming, new_root=True))

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            otel_context.detach(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], route, str(status)).inc()


def authenticator(settings: GatewaySettings) -> Authenticator:
    """Refuses to start with no key unless open mode is asked for explicitly."""
    keys = load_keys(settings.api_keys, settings.api_keys_file)
    if not keys and not settings.auth_disabled:
        raise SystemExit(
            "no API keys configured: set API_KEYS (tenant:<sha256 of the key>, see "
            "`jetscribe-keys new <tenant>`) or API_KEYS_FILE, or AUTH_DISABLED=true for an "
            "open development gateway"
        )
    if settings.auth_disabled:
        log.warning("authentication is disabled (AUTH_DISABLED=true): anyone can use this API")
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    return Authenticator(keys, settings.auth_disabled, limiter)


def create_app(settings: GatewaySettings) -> FastAPI:
    auth = authenticator(settings)

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

    app = FastAPI(
        title="jetscribe",
        version="1",
        description="Transcripts, subtitles, conversion and LLM subtitle fixing as jobs.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(RequestMetrics)
    app.include_router(files.router)
    app.include_router(jobs.router)
    app.include_router(events.router)
    app.include_router(batches.router)
    app.include_router(transcribe_alias.router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        res: Resources | None = getattr(request.app.state, "resources", None)
        checks = {"nats": False, "ledger": False, "s3": False}
        if res is not None:
            checks["nats"] = res.nc.is_connected
            checks["s3"] = await res.store.ping()
            try:
                await res.nc.request(
                    subjects.LEDGER_JOBS_LIST,
                    b'{"limit": 1, "owner": "readiness-probe"}',
                    timeout=2.0,
                )
                checks["ledger"] = True
            except Exception:
                checks["ledger"] = False
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
