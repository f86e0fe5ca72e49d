"""transcriber entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

import os

import uvloop

from services.common.logging import configure_logging
from services.common.tracing import configure_tracing

from . import app
from .settings import TranscriberSettings


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    settings = TranscriberSettings()
    configure_logging("transcriber", settings.log_level, settings.log_json)
    configure_tracing("transcriber")
    uvloop.run(app.run(settings))


if __name__ == "__main__":
    main()
