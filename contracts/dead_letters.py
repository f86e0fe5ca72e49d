"""Dead letters: messages a consumer set aside for good, and why.

A message that can never be processed (it does not parse, names no job we know, or
the database refuses what it holds) is terminated at once — never redelivered — and
recorded: its consumer publishes a `DeadLetter` on `jobs.dead.<consumer>`, the ledger
stores it, and operators list them (`GET /v1/dead-letters`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .base import Message
from .records import ErrorInfo

EXCERPT_CHARS = 512


class DeadLetter(Message):
    consumer: str = Field(description="The durable consumer (or service) that gave it up.")
    subject: str
    stream: str | None = None
    stream_seq: int | None = Field(default=None, ge=0)
    delivered: int = Field(default=1, ge=0, description="Deliveries before it was given up.")
    reason: str
    excerpt: str = Field(description=f"The message's first {EXCERPT_CHARS} characters.")


class DeadLetterRecord(DeadLetter):
    id: int
    recorded_at: datetime


class DeadLetterListRequest(Message):
    limit: int = Field(default=50, ge=1, le=500)
    before: int | None = Field(default=None, description="Only records older than this id.")


class DeadLetterListResponse(Message):
    items: list[DeadLetterRecord] = Field(default_factory=list)
    next_before: int | None = None
    error: ErrorInfo | None = None


def excerpt(data: bytes, limit: int = EXCERPT_CHARS) -> str:
    """Printable text of a message's start: undecodable bytes and NUL written as escapes
    (PostgreSQL text cannot hold NUL)."""
    text = data[: limit * 4].decode("utf-8", errors="backslashreplace")
    return text.replace("\x00", "\\x00")[:limit]
