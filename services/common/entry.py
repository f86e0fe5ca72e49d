"""What every service's `main()` does once it has its settings: logs, tracing, the loop."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvloop

from .logging import configure_logging
from .settings import ServiceSettings
from .tracing import configure_tracing

S = TypeVar("S", bound=ServiceSettings)


def run_service(name: str, settings: S, run: Callable[[S], Coroutine[Any, Any, None]]) -> None:
    """Configure logging and tracing under `name`, then run `run(settings)` on uvloop."""
    configure_logging(name, settings.log_level, settings.log_json)
    configure_tracing(name)
    uvloop.run(run(settings))
