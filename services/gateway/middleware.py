"""ASGI middleware of the gateway: request metrics and the caller's trace."""

from __future__ import annotations

import time

from opentelemetry import context as otel_context
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import tracing

from .metrics import LATENCY, REQUESTS


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
