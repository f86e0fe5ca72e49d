"""converter entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

import uvloop

from services.common.logging import configure_logging
from services.common.tracing import configure_tracing

from . import app
from .settings import ConverterSettings


def main() -> None:
    settings = ConverterSettings()
    configure_logging("converter", settings.log_level, settings.log_json)
    configure_tracing("converter")
    uvloop.run(app.run(settings))


if __name__ == "__main__":
    main()
