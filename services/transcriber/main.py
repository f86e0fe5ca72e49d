"""transcriber entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

import os

from services.common.entry import run_service

from . import app
from .settings import TranscriberSettings


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    settings = TranscriberSettings()
    run_service("transcriber", settings, app.run)


if __name__ == "__main__":
    main()
