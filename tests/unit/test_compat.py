"""The FastStream/nats-py timeout fix is in force once a broker is built."""

from __future__ import annotations

import asyncio

from services.common.adapters.nats import make_broker
from services.common.compat import faststream_timeouts_patched
from services.common.settings import NatsSettings


def test_pull_loops_treat_the_builtin_timeout_as_a_timeout() -> None:
    make_broker(NatsSettings(), "test")
    assert faststream_timeouts_patched()
    from faststream.nats.subscriber.usecases import stream_pull_subscriber

    assert issubclass(asyncio.TimeoutError, stream_pull_subscriber.TimeoutError)  # type: ignore[attr-defined]
