"""Results by job type, as stored on the job and returned by the REST API.

Each result carries `type` so a `JobCompleted` event can be parsed without context.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from .base import Model

SUMMARY_MAX_CHARS = 2000
SUMMARY_MAX_ITEMS = 5


class ResultRef(Model):
    """Where a result too large for a message is stored whole (a JSON object)."""

    object_key: str
    size: int = Field(ge=0)
    url: str | None = Field(default=None, description="Presigned download (REST API only).")


class ResultBase(Model):
    """What every result says about where it came from."""

    cached: bool = Field(
        default=False, description="Reused from an earlier identical job instead of run again."
    )
    cached_from: UUID | None = Field(default=None, description="The job whose outputs were reused.")
    full_result: ResultRef | None = Field(
        default=None,
        description="Set when this result is a summary, the whole one being too large for a "
        f"message: texts cut at {SUMMARY_MAX_CHARS} characters, lists at {SUMMARY_MAX_ITEMS} "
        "items. The REST API answers with the whole result instead, up to "
        "RESULT_INLINE_MAX_BYTES, or with this summary and `full_result.url`.",
    )


class Word(Model):
    start: float
    end: float
    word: str
    probability: float | None = None
    speaker: str | None = Field(default=None, description="With `diarize`: SPEAKER_00, ...")


class SpeakerTime(Model):
    """A speaker found by diarization, numbered in order of first appearance."""

    speaker: str
    talk_time_s: float = Field(description="The summed duration of the speaker's segments.")


class Segment(Model):
    start: float
    end: float
    text: str
    words: list[Word] | None = None
    # The decoder's own view of the segment (faster-whisper's, as OpenAI's verbose_json
    # shows it); absent on results stored before they were kept.
    id: int | None = None
    seek: int | None = Field(default=None, description="Where decoding started (10 ms frames).")
    temperature: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None
    tokens: list[int] | None = Field(default=None, description="With `include_tokens` only.")
    speaker: str | None = Field(default=None, description="With `diarize`: SPEAKER_00, ...")


class TranscribeResult(ResultBase):
    type: Literal["transcribe"] = "transcribe"
    text: str
    language: str
    language_probability: float
    duration_s: float
    segments: list[Segment]
    file_id: UUID | None = Field(default=None, description="The transcript JSON file.")
    model: str | None = None
    speakers: list[SpeakerTime] | None = Field(default=None, description="With `diarize`.")


class SrtResult(ResultBase):
    type: Literal["generate_srt"] = "generate_srt"
    file_id: UUID
    url: str | None = None
    format: Literal["srt", "vtt"]
    content: str
    cue_count: int
    language: str
    speakers: list[SpeakerTime] | None = Field(default=None, description="With `diarize`.")


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


R = TypeVar("R", bound=ResultBase)


def summarise(result: R, ref: ResultRef) -> R:
    """`result` small enough for any message: long texts and lists cut (nested ones too),
    and `full_result` naming where the whole of it is stored."""
    return _cut(result).model_copy(update={"full_result": ref})


M = TypeVar("M", bound=BaseModel)


def _cut(model: M) -> M:
    changes: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        cut = _cut_value(value)
        if cut is not value:
            changes[name] = cut
    return model.model_copy(update=changes) if changes else model


def _cut_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SUMMARY_MAX_CHARS:
        return value[:SUMMARY_MAX_CHARS] + "…"
    if isinstance(value, list):
        items = [_cut_value(v) for v in value[:SUMMARY_MAX_ITEMS]]
        return items if len(value) > SUMMARY_MAX_ITEMS or items != value else value
    if isinstance(value, BaseModel):
        return _cut(value)
    return value
