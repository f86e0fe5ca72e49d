"""Gateway entry point: uvicorn, stopping gracefully (exit 0) on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

import uvicorn

from services.common.entry import run_service
from services.common.http import QuietServer

from .app import create_app
from .settings import GatewaySettings


async def serve(settings: GatewaySettings) -> None:
    server = QuietServer(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve()


def main() -> None:
    settings = GatewaySettings()
    run_service("gateway", settings, serve)


if __name__ == "__main__":
    main()
