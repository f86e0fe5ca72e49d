"""A webhook receiver for the tests (real HTTP on loopback): answers each POST with the
next scripted status and records what arrived."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.common.http import QuietServer
from tests.support.http_server import serve_in_thread


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    answered: int
    at: float


@dataclass
class WebhookReceiver:
    script: list[int] = field(default_factory=list)  # statuses to answer, then 200
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def hook(self, request: Request) -> Response:
        status = self.script.pop(0) if self.script else 200
        body = await request.body()
        self.received.append(Received(body, dict(request.headers), status, time.monotonic()))
        return Response(status_code=status)

    def serve(self) -> QuietServer:
        server, self.port = serve_in_thread(
            Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        )
        return server

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)
