"""Results by job type, as stored on the job and returned by the REST API.

Each result carries `type` so a `JobCompleted` event can be parsed without context.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from .base import Model


class ResultBase(Model):
    """What every result says about where it came from."""

    cached: bool = Field(
        default=False, description="Reused from an earlier identical job instead of run again."
    )
    cached_from: UUID | None = Field(default=None, description="The job whose outputs were reused.")


class Word(Model):
    start: float
    end: float
    word: str
    probability: float | None = None


class Segment(Model):
    start: float
    end: float
    text: str
    words: list[Word] | None = None


class TranscribeResult(ResultBase):
    type: Literal["transcribe"] = "transcribe"
    text: str
    language: str
    language_probability: float
    duration_s: float
    segments: list[Segment]
    file_id: UUID | None = Field(default=None, description="The transcript JSON file.")
    model: str | None = None


class SrtResult(ResultBase):
    type: Literal["generate_srt"] = "generate_srt"
    file_id: UUID
    url: str | None = None
    format: Literal["srt", "vtt"]
    content: str
    cue_count: int
    language: str


class ConvertResult(ResultBase):
    type: Literal["convert"] = "convert"
    file_id: UUID
    url: str | None = None
    content_type: str
    duration_s: float | None
    size: int


class LlmUsage(Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None


class FixSrtResult(ResultBase):
    type: Literal["fix_srt", "translate_srt"] = "fix_srt"
    file_id: UUID
    url: str | None = None
    content: str
    changed_cues: int
    kept_cues: int = 0
    warnings: list[str] = Field(default_factory=list)
    model: str
    usage: LlmUsage
    language: str | None = None


class SummaryResult(ResultBase):
    type: Literal["summarize"] = "summarize"
    summary: str
    model: str
    usage: LlmUsage


class BatchResult(ResultBase):
    type: Literal["batch"] = "batch"
    total: int
    completed: int
    failed: int
    cancelled: int
    child_ids: list[UUID]


JobResult = Annotated[
    TranscribeResult | SrtResult | ConvertResult | FixSrtResult | SummaryResult | BatchResult,
    Field(discriminator="type"),
]


def result_to_public(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The REST shape of a stored result (kept as stored; `type` is an extra field)."""
    return result
