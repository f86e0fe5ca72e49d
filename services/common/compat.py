"""A compatibility fix between FastStream 0.7.8 and nats-py >= 2.13.

FastStream's pull subscribers catch `nats.errors.TimeoutError`, but nats-py's
`fetch()` now raises the built-in `asyncio.TimeoutError` when a pull request expires.
Uncaught, it kills the consume loop (the supervisor restarts it, logging an error) and,
for batch subscribers, drops the partial batch collected so far: those messages come
back only after `ack_wait`. Catching the built-in class covers both, since
`nats.errors.TimeoutError` derives from it.
"""

from __future__ import annotations

import builtins

from faststream.nats.subscriber.usecases import stream_basic, stream_pull_subscriber

_MODULES = (stream_pull_subscriber, stream_basic)


def patch_faststream_timeouts() -> None:
    for module in _MODULES:
        module.TimeoutError = builtins.TimeoutError  # type: ignore[attr-defined]


def faststream_timeouts_patched() -> bool:
    return all(m.TimeoutError is builtins.TimeoutError for m in _MODULES)
