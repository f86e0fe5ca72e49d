"""An OpenAI audio request, read and checked from its multipart form fields.

Fields as OpenAI documents them: `model`, `language` (transcriptions only), `prompt`,
`response_format`, `temperature`, `timestamp_granularities[]` (transcriptions, with
`verbose_json` only). Any other field is refused with its name as `param`: a setting
that would be silently ignored is worse than an error.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from contracts import ErrorCode, JobType

from ..errors import ApiError
from .languages import WHISPER_LANGUAGES

Task = Literal["transcribe", "translate"]
FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("word", "segment")
PROMPT_MAX_CHARS = 2000  # TranscribeOptions.initial_prompt's limit
FIELDS: dict[Task, frozenset[str]] = {
    "transcribe": frozenset(
        {"model", "language", "prompt", "response_format", "temperature", "stream"}
    ),
    "translate": frozenset({"model", "prompt", "response_format", "temperature", "stream"}),
}
GRANULARITY_FIELDS = ("timestamp_granularities[]", "timestamp_granularities")


@dataclass(frozen=True)
class AudioRequest:
    task: Task
    model: str
    response_format: str = "json"
    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    granularities: frozenset[str] = frozenset()

    @property
    def words(self) -> bool:
        return "word" in self.granularities

    @property
    def segments(self) -> bool:
        """OpenAI gives segments unless only word timestamps were asked for."""
        return not self.granularities or "segment" in self.granularities

    def job(self) -> tuple[JobType, dict[str, Any]]:
        """The jetscribe job that answers it: subtitles for srt/vtt, else a transcript."""
        options: dict[str, Any] = {"task": self.task, "temperature": self.temperature}
        if self.language:
            options["language"] = self.language
        if self.prompt:
            options["initial_prompt"] = self.prompt
        if self.response_format in ("srt", "vtt"):
            return JobType.GENERATE_SRT, {**options, "format": self.response_format}
        if self.response_format == "verbose_json":
            options["include_tokens"] = True
            if self.words:
                options["word_timestamps"] = True
        return JobType.TRANSCRIBE, options


def bad(param: str, message: str, code: str = ErrorCode.INVALID_REQUEST) -> ApiError:
    return ApiError(400, code, message, param=param)


def read_request(task: Task, form: list[tuple[str, str]], models: Collection[str]) -> AudioRequest:
    """The request from the form's fields (the `file` part is not among them)."""
    fields: dict[str, str] = {}
    granularities: list[str] = []
    for name, value in form:
        if name in GRANULARITY_FIELDS and task == "transcribe":
            granularities.append(value.strip())
        elif name in FIELDS[task]:
            fields[name] = value
        else:
            raise bad(name, f"{name}: unsupported parameter for /v1/audio/{_path(task)}")
    model = fields.get("model", "").strip()
    if not model:
        raise bad("model", "you must provide a model parameter (e.g. whisper-1)")
    if model not in models:
        raise bad(
            "model",
            f"model {model!r} does not exist here; use one of {', '.join(sorted(models))}",
            "model_not_found",
        )
    if fields.get("stream", "false").strip().lower() not in ("false", "0", ""):
        raise bad("stream", "stream: streamed answers are not supported; leave it false")
    response_format = fields.get("response_format", "json").strip() or "json"
    if response_format not in FORMATS:
        raise bad(
            "response_format",
            f"response_format {response_format!r}: expected one of {', '.join(FORMATS)}",
        )
    for value in granularities:
        if value not in GRANULARITIES:
            raise bad(
                "timestamp_granularities[]",
                f"timestamp_granularities[]: {value!r} is neither 'word' nor 'segment'",
            )
    if granularities and response_format != "verbose_json":
        raise bad(
            "timestamp_granularities[]",
            "timestamp_granularities[] needs response_format verbose_json",
        )
    return AudioRequest(
        task=task,
        model=model,
        response_format=response_format,
        language=_language(fields.get("language")),
        prompt=_prompt(fields.get("prompt")),
        temperature=_temperature(fields.get("temperature")),
        granularities=frozenset(granularities),
    )


def _path(task: Task) -> str:
    return "transcriptions" if task == "transcribe" else "translations"


def _language(raw: str | None) -> str | None:
    code = (raw or "").strip().lower()
    if not code:
        return None
    if code not in WHISPER_LANGUAGES:
        raise bad("language", f"language {raw!r}: not an ISO-639-1 code Whisper knows")
    return code


def _prompt(raw: str | None) -> str | None:
    if raw and len(raw) > PROMPT_MAX_CHARS:
        raise bad("prompt", f"prompt: at most {PROMPT_MAX_CHARS} characters")
    if raw and "\x00" in raw:
        raise bad("prompt", "prompt: NUL (\\u0000) is not allowed")
    return raw or None


def _temperature(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise bad("temperature", f"temperature {raw!r}: not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise bad("temperature", "temperature: between 0 and 1")
    return value
