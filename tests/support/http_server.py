"""A real HTTP server on a free loopback port, in a thread, for test doubles of external
systems (an LLM provider, a webhook receiver)."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette

from services.common.http import QuietServer
from services.devstack.infra import free_port


def serve_in_thread(app: Starlette) -> tuple[QuietServer, int]:
    """Start `app`; returns the server (set `should_exit` to stop it) and its port."""
    port = free_port()
    server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, port
