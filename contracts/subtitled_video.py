"""`convert` options that put subtitles into a video: soft tracks, or drawn into the picture."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from .base import StrictModel


def iso_639_2(code: str) -> str:
    """An ISO 639-1 or 639-2 (T or B) code as the 639-2/T code containers carry ("de",
    "ger" → "deu"). ValueError for a code no standard has."""
    import pycountry  # lazily: only a subtitled convert pays for the table

    value = code.strip().lower()
    if value == "und":
        return value
    if len(value) == 2:
        found = pycountry.languages.get(alpha_2=value)
    elif len(value) == 3:
        found = pycountry.languages.get(alpha_3=value) or pycountry.languages.get(
            bibliographic=value
        )
    else:
        found = None
    if found is None:
        raise ValueError(f"{code!r} is not an ISO 639-1 or 639-2 language code")
    return str(found.alpha_3)


class SubtitleTrack(StrictModel):
    """One subtitle file (SRT or WebVTT) to carry in the video: an uploaded file, or, in
    a pipeline step, the output of an earlier step."""

    file_id: UUID | None = Field(default=None, description="An uploaded SRT or VTT file.")
    from_step: int | None = Field(
        default=None,
        ge=0,
        description="In a pipeline: the primary output of step N (0 = the top-level job).",
    )
    language: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2,3}$",
        description="ISO 639-1 or 639-2 code; stored as 639-2/T ('de' → 'deu'). "
        "None tags the track 'und'.",
    )
    title: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else iso_639_2(value)

    @model_validator(mode="after")
    def _one_source(self) -> SubtitleTrack:
        if (self.file_id is None) == (self.from_step is None):
            raise ValueError("give exactly one of file_id and from_step")
        return self


class SubtitleStyle(StrictModel):
    """How burnt-in subtitles look (libass's style, on a 288-line script canvas)."""

    font_size: int = Field(default=18, ge=6, le=96)
    position: Literal["bottom", "middle", "top"] = "bottom"
    outline: float = Field(default=1.5, ge=0, le=8, description="Border width around letters.")
    margin: int = Field(default=16, ge=0, le=200, description="Distance from the edge.")
    color: str = Field(default="#FFFFFF", pattern=r"^#[0-9A-Fa-f]{6}$")
    outline_color: str = Field(default="#000000", pattern=r"^#[0-9A-Fa-f]{6}$")
