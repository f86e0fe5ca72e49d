"""Consumer lag as Prometheus gauges: each service reports the JetStream consumers it
pulls from (every replica reports the same shared numbers; take max, not sum)."""

from __future__ import annotations

from collections.abc import Sequence

from nats.js import JetStreamContext

from .logging import get_logger
from .metrics import CONSUMER_ACK_PENDING, CONSUMER_PENDING
from .periodic import Periodic

log = get_logger(__name__)


class ConsumerLag:
    def __init__(
        self, js: JetStreamContext, consumers: Sequence[tuple[str, str]], interval_s: float = 15.0
    ) -> None:
        self._js = js
        self._consumers = list(consumers)
        self._loop = Periodic("consumer-lag", self.read_once, interval_s)

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def read_once(self) -> None:
        for stream, consumer in self._consumers:
            try:
                info = await self._js.consumer_info(stream, consumer)
            except Exception as exc:  # NATS away for a moment: keep the last values
                log.debug("consumer info unavailable", consumer=consumer, error=str(exc))
                continue
            CONSUMER_PENDING.labels(stream, consumer).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(stream, consumer).set(info.num_ack_pending or 0)
