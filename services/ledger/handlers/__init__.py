"""The ledger's inbound surfaces, one module each: request-reply (`ledger.>`), the
`jobs.submit` stream, dead letters (`jobs.dead.>`) and the event intake
(`jobs.events.>`). Thin: parse the wire, call a use case, ack or reply."""

from __future__ import annotations

from faststream.nats import NatsBroker

from ..ledger import Ledger
from ..settings import LedgerSettings
from . import dead_letters, request_reply, submit


def register(broker: NatsBroker, ledger: Ledger, settings: LedgerSettings) -> None:
    """Subscribe the request-reply API and `jobs.submit` (the intake starts on its own)."""
    request_reply.register(broker, ledger, settings.request_concurrency)
    submit.register(broker, ledger, settings.submit_max_deliver)
    dead_letters.register(broker, ledger.dead_letters)
