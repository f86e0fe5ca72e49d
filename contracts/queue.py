"""The queue at a glance: per job type, what waits, runs and failed lately (operators).

The ledger answers `ledger.queue.stats` from its tables; the gateway adds what NATS
knows (each worker consumer's backlog, the worker replicas seen) for `GET /v1/queue`.
"""

from __future__ import annotations

from pydantic import Field

from .base import Message
from .records import ErrorInfo

RECENT_WINDOW_S = 3600


class TypeQueue(Message):
    type: str
    waiting: int = Field(ge=0, description="Jobs submitted and not started (`pending`).")
    running: int = Field(ge=0, description="Jobs a worker is on (`processing`).")
    failed_recently: int = Field(ge=0, description="Jobs failed in the last hour.")
    completed_recently: int = Field(ge=0, description="Jobs completed in the last hour.")
    oldest_waiting_s: float | None = Field(
        default=None, description="Age of the oldest waiting job, in seconds."
    )


class QueueStatsRequest(Message):
    window_s: int = Field(default=RECENT_WINDOW_S, ge=60, le=7 * 86400)


class QueueStatsResponse(Message):
    types: list[TypeQueue] = Field(default_factory=list)
    dead_letters: int = Field(default=0, ge=0, description="Dead letters recorded.")
    error: ErrorInfo | None = None
