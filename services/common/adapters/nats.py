"""NATS adapter shared by services: broker construction, stream settings and durable
event publishing."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from contracts import JobEventBase, subjects

from ..compat import patch_faststream_timeouts
from ..jetstream import StreamSettings
from ..settings import NatsSettings
from ..tracing import inject


def make_broker(settings: NatsSettings, name: str, graceful_timeout: float = 30.0) -> NatsBroker:
    patch_faststream_timeouts()
    return NatsBroker(
        name=name,
        graceful_timeout=graceful_timeout,
        # FastStream's own lines (per-message access logs, task supervision) only on debug.
        logger=_faststream_logger(),
        max_reconnect_attempts=-1,
        **settings.connect_kwargs(),  # type: ignore[arg-type]
    )


def _faststream_logger() -> logging.Logger:
    logger = logging.getLogger("jetscribe.faststream")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    return logger


def stream_settings(settings: NatsSettings) -> StreamSettings:
    return StreamSettings(
        replicas=settings.stream_replicas,
        events_max_age_s=settings.events_max_age_hours * 3600,
    )


class EventPublisher:
    """Publishes job events durably: returns only once JetStream has stored the event."""

    def __init__(self, js: JetStreamContext, producer: str) -> None:
        self._js = js
        self.producer = producer

    async def publish(self, event: JobEventBase, timeout: float = 10.0) -> None:
        if event.producer is None:
            event = event.model_copy(update={"producer": self.producer})
        await self._js.publish(
            subjects.events_subject(event.job_id),
            event.model_dump_json().encode(),
            timeout=timeout,
            headers=inject({"Nats-Msg-Id": str(event.event_id)}),
        )
