"""converter entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

from services.common.entry import run_service

from . import app
from .settings import ConverterSettings


def main() -> None:
    settings = ConverterSettings()
    run_service("converter", settings, app.run)


if __name__ == "__main__":
    main()
