"""Giving a message up: terminate it and record why (one poison policy for all consumers).

`give_up` publishes a `DeadLetter` (subject, stream sequence, deliveries, reason, an
excerpt) on `jobs.dead.<consumer>`, counts it, then terminates the message so it is
never delivered again. The ledger stores dead letters; operators list them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import DeadLetter, subjects
from contracts.dead_letters import excerpt

from .logging import get_logger
from .metrics import DEAD_LETTERS

log = get_logger(__name__)
REASON_CHARS = 1000


def dead_letter_of(msg: Msg, consumer: str, reason: str) -> DeadLetter:
    meta = None
    with contextlib.suppress(Exception):  # a core NATS message has no metadata
        meta = msg.metadata
    return DeadLetter(
        consumer=consumer,
        subject=msg.subject,
        stream=meta.stream if meta else None,
        stream_seq=meta.sequence.stream if meta else None,
        delivered=meta.num_delivered if meta else 1,
        reason=reason.replace("\x00", "\\x00")[:REASON_CHARS],
        excerpt=excerpt(msg.data or b""),
    )


async def give_up(
    js: JetStreamContext,
    msg: Msg,
    consumer: str,
    reason: str,
    *,
    terminate: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Record `msg` as a dead letter, then terminate it (`terminate`: the caller's own
    way to do so, e.g. a FastStream message's `reject`)."""
    letter = dead_letter_of(msg, consumer, reason)
    log.warning(
        "message given up",
        consumer=consumer,
        subject=letter.subject,
        stream_seq=letter.stream_seq,
        reason=letter.reason,
    )
    DEAD_LETTERS.labels(consumer=consumer).inc()
    # One record per stream message, however often it is given up (a redelivery
    # racing the termination).
    headers = (
        {"Nats-Msg-Id": f"dead:{consumer}:{letter.stream}:{letter.stream_seq}"}
        if letter.stream_seq is not None
        else None
    )
    try:
        await js.publish(
            subjects.dead_letter_subject(consumer),
            letter.model_dump_json().encode(),
            timeout=5.0,
            headers=headers,
        )
    except Exception as exc:  # the log line above is the record then
        log.warning("dead letter not recorded", error=str(exc))
    await (terminate() if terminate is not None else msg.term())
