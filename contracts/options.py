"""Options per job type, validated at the edge (gateway and ledger) and again by workers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from .base import StrictModel
from .enums import JobType
from .subtitled_video import SubtitleStyle, SubtitleTrack
from .validation import first_error, first_field

LanguageCode = Annotated[str, Field(min_length=2, max_length=8, pattern=r"^[a-zA-Z-]+$")]


class TranscribeOptions(StrictModel):
    language: LanguageCode | None = Field(
        default=None, description="ISO code of the spoken language; null detects it."
    )
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = Field(default=5, ge=1, le=10)
    vad_filter: bool = True
    word_timestamps: bool = False
    initial_prompt: str | None = Field(default=None, max_length=2000)
    batch_size: int = Field(
        default=8,
        ge=1,
        le=64,
        description="> 1 runs faster-whisper's BatchedInferencePipeline (faster on long media).",
    )
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)
    include_tokens: bool = Field(
        default=False, description="Keep each segment's token ids (`segments[].tokens`)."
    )
    diarize: bool = Field(
        default=False,
        description="Label who speaks: `speaker` on every segment and word (segments split "
        "at a change), `speakers` with talk times. Implies word timestamps.",
    )
    num_speakers: int | None = Field(default=None, ge=1, le=32, description="If known.")
    min_speakers: int | None = Field(default=None, ge=1, le=32)
    max_speakers: int | None = Field(default=None, ge=1, le=32)

    @model_validator(mode="after")
    def _check_speakers(self) -> TranscribeOptions:
        counts = [self.num_speakers, self.min_speakers, self.max_speakers]
        if any(c is not None for c in counts) and not self.diarize:
            raise ValueError("num_speakers, min_speakers and max_speakers need diarize: true")
        if self.num_speakers is not None and (self.min_speakers or self.max_speakers):
            raise ValueError("give num_speakers, or min_speakers/max_speakers, not both")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError("min_speakers must not exceed max_speakers")
        return self


class SrtOptions(TranscribeOptions):
    format: Literal["srt", "vtt"] = "srt"
    max_chars_per_line: int = Field(default=42, ge=10, le=200)
    max_lines_per_cue: int = Field(default=2, ge=1, le=4)
    max_cue_duration_s: float = Field(default=7.0, gt=0.5, le=30.0)
    min_cue_gap_ms: int = Field(default=80, ge=0, le=2000)
    word_timestamps: bool = True
    speaker_labels: bool = Field(
        default=True,
        description="With `diarize`: SRT cues start 'SPEAKER_00: ' (VTT uses voice spans).",
    )


AUDIO_PRESETS = ("audio_wav_16k_mono", "mp3", "m4a")


class ConvertOptions(StrictModel):
    preset: Literal["mp4", "mkv", "webm", "audio_wav_16k_mono", "mp3", "m4a"] = "mp4"
    max_height: int | None = Field(default=None, ge=16, le=4320)
    video_bitrate: str | None = Field(default=None, pattern=r"^\d+[kM]?$")
    audio_bitrate: str | None = Field(default=None, pattern=r"^\d+[kM]?$")
    crf: int | None = Field(default=None, ge=0, le=63)
    start_s: float | None = Field(default=None, ge=0)
    end_s: float | None = Field(default=None, gt=0)
    audio_only: bool = False
    subtitles: list[SubtitleTrack] = Field(
        default_factory=list,
        max_length=32,
        description="Subtitle files carried as tracks (mov_text in MP4, SRT in MKV, WebVTT "
        "in WebM), every video and audio stream kept.",
    )
    burn_subtitles: bool = Field(
        default=False, description="Draw the first subtitle file into the picture instead."
    )
    subtitle_style: SubtitleStyle | None = Field(
        default=None, description="Burnt-in subtitles only."
    )

    @model_validator(mode="after")
    def _check_combinations(self) -> ConvertOptions:
        self._check_subtitles()
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end_s must be greater than start_s")
        audio_preset = self.preset in AUDIO_PRESETS
        video_only = [
            name
            for name in ("max_height", "video_bitrate", "crf")
            if getattr(self, name) is not None
        ]
        if video_only and (audio_preset or self.audio_only):
            raise ValueError(
                f"{video_only[0]} applies to video, but preset {self.preset!r}"
                + (" with audio_only" if self.audio_only else "")
                + " has no video"
            )
        if self.audio_bitrate and self.preset == "audio_wav_16k_mono":
            raise ValueError("audio_bitrate does not apply to uncompressed WAV")
        if self.crf is not None and self.video_bitrate:
            raise ValueError("crf and video_bitrate are alternatives: give one")
        return self

    def _check_subtitles(self) -> None:
        if (self.subtitles or self.burn_subtitles) and (
            self.preset in AUDIO_PRESETS or self.audio_only
        ):
            raise ValueError(f"subtitles need a video; preset {self.preset!r} has none")
        if self.burn_subtitles and not self.subtitles:
            raise ValueError("burn_subtitles needs a file in subtitles")
        if self.subtitle_style is not None and not self.burn_subtitles:
            raise ValueError("subtitle_style applies to burnt-in subtitles (burn_subtitles)")


class LlmOptions(StrictModel):
    model: str | None = Field(default=None, description="Any litellm model string.")
    system_prompt: str | None = Field(default=None, max_length=20000)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    language: LanguageCode | None = None


class FixSrtOptions(LlmOptions):
    chunk_cues: int = Field(default=40, ge=1, le=500)


class TranslateSrtOptions(FixSrtOptions):
    target_language: str = Field(min_length=2, max_length=64)


class SummarizeOptions(LlmOptions):
    max_words: int = Field(default=200, ge=10, le=5000)
    style: Literal["paragraph", "bullets"] = "paragraph"


class BatchOptions(StrictModel):
    """A batch's own options: the child type and the options every child gets."""

    child_type: JobType
    child_options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_nested_batches(self) -> BatchOptions:
        if self.child_type is JobType.BATCH:
            raise ValueError("a batch cannot contain batches")
        return self


JobOptions = (
    TranscribeOptions
    | SrtOptions
    | ConvertOptions
    | FixSrtOptions
    | TranslateSrtOptions
    | SummarizeOptions
    | BatchOptions
)

OPTIONS_BY_TYPE: dict[JobType, type[StrictModel]] = {
    JobType.TRANSCRIBE: TranscribeOptions,
    JobType.GENERATE_SRT: SrtOptions,
    JobType.CONVERT: ConvertOptions,
    JobType.FIX_SRT: FixSrtOptions,
    JobType.TRANSLATE_SRT: TranslateSrtOptions,
    JobType.SUMMARIZE: SummarizeOptions,
    JobType.BATCH: BatchOptions,
}


class InvalidOptionsError(ValueError):
    """Options that do not validate; `field` names the first offending field."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def parse_options(
    job_type: JobType, raw: dict[str, Any] | None, where: str = "options"
) -> StrictModel:
    """Validate raw options for a job type; raise InvalidOptionsError naming the field.

    `where` is how the caller names the options in its error (`then[0].options`).
    """
    model = OPTIONS_BY_TYPE[job_type]
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        raise InvalidOptionsError(first_error(exc, where), first_field(exc)) from exc
