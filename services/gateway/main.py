"""Gateway entry point: uvicorn, stopping gracefully (exit 0) on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

import uvicorn
import uvloop

from services.common.http import QuietServer
from services.common.logging import configure_logging
from services.common.tracing import configure_tracing

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
    configure_logging("gateway", settings.log_level, settings.log_json)
    configure_tracing("gateway")
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
