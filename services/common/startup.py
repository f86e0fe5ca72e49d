"""Start-up waits: dependencies may come up after us (tenacity only here, never per job)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from .logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)


async def wait_for(name: str, connect: Callable[[], Awaitable[T]], timeout_s: float = 60.0) -> T:
    """Call `connect` until it succeeds or `timeout_s` passes, logging each failure."""
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.2, max=5.0),
        reraise=True,
    ):
        with attempt:
            n = attempt.retry_state.attempt_number
            if n > 1:
                log.info("waiting for dependency", dependency=name, attempt=n)
            return await connect()
    raise AssertionError("unreachable")
