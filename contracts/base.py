"""Base classes shared by every message on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1
"""The wire version this code speaks. A message with another version is rejected."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """A value object: immutable, unknown fields ignored (additive changes stay compatible)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class StrictModel(BaseModel):
    """Client-supplied input: unknown fields are an error so typos never pass silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Model):
    """Every message published on NATS carries its schema version."""

    schema_version: Literal[1] = SCHEMA_VERSION


class Envelope(Message):
    """Identity and tracing fields carried by every command and event."""

    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None
