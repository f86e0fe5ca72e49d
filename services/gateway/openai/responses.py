"""A finished job's result in the shape OpenAI answers with.

`json` → `{"text"}`; `text`, `srt`, `vtt` → the document as text/plain; `verbose_json`
→ `{task, language, duration, text, segments?, words?}` with OpenAI's segment fields.
Fields a result stored before they were kept lacks are answered with OpenAI's neutral
values (0, an empty token list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .languages import language_name
from .requests import AudioRequest


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str


def render(request: AudioRequest, result: dict[str, Any]) -> Rendered:
    fmt = request.response_format
    if fmt in ("srt", "vtt"):
        return _text(str(result.get("content", "")))
    text = str(result.get("text", ""))
    if fmt == "text":
        return _text(text + "\n")
    if fmt == "json":
        return _json({"text": text})
    return _json(verbose(request, result))


def verbose(request: AudioRequest, result: dict[str, Any]) -> dict[str, Any]:
    segments = [s for s in result.get("segments") or [] if isinstance(s, dict)]
    # Whisper translates into English: that is the language of the text answered.
    language = "english" if request.task == "translate" else language_name(result.get("language"))
    body: dict[str, Any] = {
        "task": request.task,
        "language": language,
        "duration": float(result.get("duration_s") or 0.0),
        "text": str(result.get("text", "")),
    }
    if request.segments:
        body["segments"] = [_segment(i, s) for i, s in enumerate(segments)]
    if request.words:
        body["words"] = [
            {"word": str(w.get("word", "")).strip(), "start": w["start"], "end": w["end"]}
            for s in segments
            for w in s.get("words") or []
            if isinstance(w, dict)
        ]
    return body


def _segment(index: int, seg: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": index,  # OpenAI counts from 0 (faster-whisper from 1)
        "seek": _or(seg.get("seek"), 0),
        "start": seg["start"],
        "end": seg["end"],
        "text": seg.get("text", ""),
        "tokens": seg.get("tokens") or [],
        "temperature": _or(seg.get("temperature"), 0.0),
        "avg_logprob": _or(seg.get("avg_logprob"), 0.0),
        "compression_ratio": _or(seg.get("compression_ratio"), 0.0),
        "no_speech_prob": _or(seg.get("no_speech_prob"), 0.0),
    }


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _text(document: str) -> Rendered:
    return Rendered(document.encode(), "text/plain; charset=utf-8")


def _json(body: dict[str, Any]) -> Rendered:
    return Rendered(json.dumps(body, ensure_ascii=False).encode(), "application/json")
