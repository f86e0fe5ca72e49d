"""srt-fixer entry point: settings, logging and tracing, then `app.run`."""

from __future__ import annotations

import os

from services.common.entry import run_service

from . import app
from .settings import SrtFixerSettings


def main() -> None:
    # litellm otherwise fetches its price map from the network at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    settings = SrtFixerSettings()
    run_service("srt-fixer", settings, app.run)


if __name__ == "__main__":
    main()
