"""One poison policy for every message the ledger consumes.

    database away ────────────────────────────► retry (no bound: an outage is waited out)
    database refuses the data ────────────────► give up now (dead letter, terminate)
    anything else ── fewer than MAX deliveries ► retry
                  └─ MAX deliveries ──────────► give up

Giving up terminates the message and records it (`services.common.dead_letters`).
"""

from __future__ import annotations

from enum import Enum

MAX_DELIVERIES = 5


class Verdict(Enum):
    RETRY = "retry"
    GIVE_UP = "give_up"


def verdict(*, unavailable: bool, refused: bool, delivered: int) -> Verdict:
    if unavailable:
        return Verdict.RETRY
    if refused or delivered >= MAX_DELIVERIES:
        return Verdict.GIVE_UP
    return Verdict.RETRY


def retry_delay_s(delivered: int) -> float:
    """Redelivery delay: 2 s a delivery, at most 30 s."""
    return min(2.0 * max(delivered, 1), 30.0)
