"""Consumer lag as Prometheus gauges: each service reports the JetStream consumers it
pulls from (every replica reports the same shared numbers; take max, not sum)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from nats.js import JetStreamContext

from .logging import get_logger
from .metrics import CONSUMER_ACK_PENDING, CONSUMER_PENDING

log = get_logger(__name__)


class ConsumerLag:
    def __init__(
        self, js: JetStreamContext, consumers: Sequence[tuple[str, str]], interval_s: float = 15.0
    ) -> None:
        self._js = js
        self._consumers = list(consumers)
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="consumer-lag")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self.read_once()
            await asyncio.sleep(self._interval)

    async def read_once(self) -> None:
        for stream, consumer in self._consumers:
            try:
                info = await self._js.consumer_info(stream, consumer)
            except Exception as exc:  # NATS away for a moment: keep the last values
                log.debug("consumer info unavailable", consumer=consumer, error=str(exc))
                continue
            CONSUMER_PENDING.labels(stream, consumer).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(stream, consumer).set(info.num_ack_pending or 0)
