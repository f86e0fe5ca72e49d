"""What each command submits, from its arguments (pure): the job type, its options,
the pipeline's later steps, and what is written from the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .outputs import FIXED_SUFFIX, FORMAT_SUFFIX, PRESET_SUFFIX


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SRT = "srt"
    VTT = "vtt"


class Preset(StrEnum):
    """The converter's presets (contracts.ConvertOptions.preset)."""

    MP4 = "mp4"
    MKV = "mkv"
    WEBM = "webm"
    AUDIO_WAV_16K_MONO = "audio_wav_16k_mono"
    MP3 = "mp3"
    M4A = "m4a"


DOWNLOAD = "file"  # `Plan.writes`: the result's file downloaded (conversions)


class PlanError(ValueError):
    """Arguments that do not go together; `param` names the option to blame."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Plan:
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    then: list[dict[str, Any]] = field(default_factory=list)
    suffix: str = ".txt"  # of each output: `<input stem><suffix>`
    writes: str = "text"  # a Format's value (the result in that form) or DOWNLOAD

    @property
    def steps(self) -> int:
        return 1 + len(self.then)

    @property
    def last_type(self) -> str:
        """The type whose result ends the job (a pipeline's last step's)."""
        return str(self.then[-1]["type"]) if self.then else self.type


def _language(language: str | None) -> dict[str, Any]:
    return {"language": language} if language else {}


def transcribe_plan(
    fmt: Format | None,
    language: str | None,
    fix: bool,
    translate: str | None,
    diarize: bool = False,
) -> Plan:
    """`transcribe`: the text or JSON transcript, or subtitles (srt, vtt); `--fix` and
    `--translate` chain fix_srt / translate_srt after generate_srt (SRT only);
    `--diarize` labels who speaks."""
    chained = fix or translate is not None
    chosen = fmt or (Format.SRT if chained else Format.TEXT)
    if chained and chosen is not Format.SRT:
        flag = "--fix" if fix else "--translate"
        raise PlanError(
            f"{flag} works on SRT subtitles: it cannot give --format {chosen.value} "
            "(leave --format out, or use srt)",
            "--format",
        )
    if translate is not None and not translate.strip():
        raise PlanError("--translate needs a target language, e.g. German or de", "--translate")
    suffix = FORMAT_SUFFIX[chosen.value]
    speakers = {"diarize": True} if diarize else {}
    if chosen in (Format.TEXT, Format.JSON):
        options = {**_language(language), **speakers}
        return Plan("transcribe", options, suffix=suffix, writes=chosen.value)
    then: list[dict[str, Any]] = []
    if fix:
        then.append({"type": "fix_srt", "options": _language(language)})
    if translate is not None:
        then.append({"type": "translate_srt", "options": {"target_language": translate.strip()}})
    options = {"format": chosen.value, **_language(language), **speakers}
    return Plan("generate_srt", options, then, suffix=suffix, writes=chosen.value)


def convert_plan(preset: str) -> Plan:
    return Plan("convert", {"preset": preset}, suffix=PRESET_SUFFIX[preset], writes=DOWNLOAD)


def fix_plan(language: str | None) -> Plan:
    return Plan("fix_srt", _language(language), suffix=FIXED_SUFFIX, writes=Format.SRT.value)
