"""job-ledger entry point."""

from __future__ import annotations

import uvloop

from services.common.logging import configure_logging
from services.common.tracing import configure_tracing

from .app import run
from .builders import PRODUCER
from .settings import LedgerSettings


def main() -> None:
    settings = LedgerSettings()
    configure_logging(PRODUCER, settings.log_level, settings.log_json)
    configure_tracing(PRODUCER)
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
