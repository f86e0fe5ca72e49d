"""Publishing a job's outcome when the connection to NATS is in doubt.

A publish that times out has an unknown outcome: nats-py may have sent the message
(or buffered it and sends it on reconnect) and JetStream may have stored it. Treating
that as a failure re-runs a job that has ended. Instead the same event (same
`event_id`, so the same `Nats-Msg-Id`) is published again until JetStream answers:
if the first one was stored, JetStream acknowledges the repeat as a duplicate.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError

from contracts import ErrorCode, JobEventBase

from .errors import PermanentError
from .job_context import EventSink


class OutcomeTooLarge(PermanentError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0


async def publish_until_stored(
    sink: EventSink, event: JobEventBase, *, within_s: float, log: Any
) -> None:
    """Publish `event`, repeating it while NATS is unreachable or slow, for `within_s`.

    Raises the last error once `within_s` is spent, and at once for an error a repeat
    cannot fix (a message over the server's payload limit)."""
    deadline = time.monotonic() + within_s
    delay = FIRST_DELAY_S
    tries = 0
    while True:
        tries += 1
        try:
            await sink.publish(event)
        except MaxPayloadError as exc:  # a repeat cannot fix it, nor a re-run
            raise OutcomeTooLarge(f"the job's outcome does not fit a NATS message: {exc}") from exc
        except (NatsError, TimeoutError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning(
                "outcome not confirmed by JetStream, publishing it again",
                kind=getattr(event, "kind", None),
                error=f"{type(exc).__name__}: {exc}",
                tries=tries,
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
        else:
            return
