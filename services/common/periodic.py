"""A background task that runs one round of work every interval (the first at once).

A failing round is logged and tried again at the next interval: the services' side
loops (janitor, webhooks, consumer lag) must never die of a passing outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from .logging import get_logger

log = get_logger(__name__)


class Periodic:
    def __init__(self, name: str, round_: Callable[[], Awaitable[Any]], interval_s: float) -> None:
        self.name = name
        self._round = round_
        self._interval = interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Run the next round now instead of at the end of the interval."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await self._round()
            except Exception as exc:
                log.warning(f"{self.name} round failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
