"""srt-fixer entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

import os

import uvloop

from services.common.logging import configure_logging
from services.common.tracing import configure_tracing

from . import app
from .settings import SrtFixerSettings


def main() -> None:
    # litellm otherwise fetches its price map from the network at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    settings = SrtFixerSettings()
    configure_logging("srt-fixer", settings.log_level, settings.log_json)
    configure_tracing("srt-fixer")
    uvloop.run(app.run(settings))


if __name__ == "__main__":
    main()
