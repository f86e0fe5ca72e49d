"""`jobs.dead.>`: dead letters from every consumer, stored for operators."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from pydantic import ValidationError

from contracts import DeadLetter, first_error, streams, subjects
from services.common import jetstream
from services.common.logging import get_logger

from .. import poison
from ..adapters.pg import errors as pg_errors
from ..dead_letters import DeadLetters
from ..sanitise import without_nul

log = get_logger(__name__)


def register(broker: NatsBroker, dead_letters: DeadLetters) -> None:
    @broker.subscriber(
        subjects.JOBS_DEAD_ALL,
        stream=JStream(streams.DEAD_LETTERS_STREAM, declare=False),
        durable=streams.LEDGER_DEAD_LETTERS_CONSUMER,
        config=jetstream.ledger_dead_letters_consumer(),
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.MANUAL,
        title=subjects.JOBS_DEAD_ALL,
    )
    async def on_dead_letter(msg: NatsMessage) -> None:
        data = without_nul(msg.raw_message.data)
        try:
            letter = DeadLetter.model_validate_json(data)
        except ValidationError as exc:  # not ours to record: the log line is all
            log.warning("malformed dead letter dropped", error=first_error(exc), data=data[:200])
            await msg.reject()
            return
        try:
            await dead_letters.record(letter)
        except Exception as exc:
            if pg_errors.refused(exc):  # not a letter we can keep: the log line is all
                log.warning("dead letter refused by the database", error=str(exc), letter=letter)
                await msg.reject()
                return
            delivered = msg.raw_message.metadata.num_delivered or 1
            log.warning("dead letter not stored, will retry", error=str(exc))
            await msg.nack(delay=poison.retry_delay_s(delivered))
            return
        await msg.ack()
