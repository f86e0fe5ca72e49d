"""job-ledger entry point."""

from __future__ import annotations

from services.common.entry import run_service

from .app import run
from .builders import PRODUCER
from .settings import LedgerSettings


def main() -> None:
    settings = LedgerSettings()
    run_service(PRODUCER, settings, run)


if __name__ == "__main__":
    main()
