"""Where results go: one name per output in the folder asked for, never an input file,
and the text each format writes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FORMAT_SUFFIX = {"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt"}
PRESET_SUFFIX = {
    "mp4": ".mp4",
    "mkv": ".mkv",
    "webm": ".webm",
    "audio_wav_16k_mono": ".wav",
    "mp3": ".mp3",
    "m4a": ".m4a",
}
FIXED_SUFFIX = ".fixed.srt"


class ResultError(ValueError):
    """A completed job whose result lacks what the format writes."""


class OutputNamer:
    """Names the outputs of one run in `folder`: `<stem><suffix>`, else `<stem>-1<suffix>`,
    `-2`..., so that no output is an input file (`protected`) and no two outputs of the
    run share a name. Other existing files are replaced (a run again writes anew)."""

    def __init__(self, folder: Path, protected: Iterable[Path] = ()) -> None:
        self.folder = folder
        self._taken = {p.resolve() for p in protected}

    def name(self, stem: str, suffix: str) -> Path:
        candidate = self.folder / f"{stem}{suffix}"
        n = 0
        while candidate.resolve() in self._taken:
            n += 1
            candidate = self.folder / f"{stem}-{n}{suffix}"
        self._taken.add(candidate.resolve())
        return candidate


def download_name(input_filename: str | None, output_filename: str) -> tuple[str, str]:
    """(stem, suffix) of a downloaded output: the input's stem with the output's
    extension (`talk.mp4` + `transcript.json` → `talk.json`); the output's whole name
    after the stem where that would be the input's own name (`talk.srt` + `fixed.srt`
    → `talk.fixed.srt`); the output's own name without an input."""
    output = Path(output_filename)
    if not input_filename:
        return output.stem or "output", output.suffix
    stem = Path(input_filename).stem or "output"
    if f"{stem}{output.suffix}" == Path(input_filename).name:
        return stem, f".{output.name}"
    return stem, output.suffix


def content_of(result: Mapping[str, Any] | None, fmt: str) -> str:
    """What a result writes in `fmt`: the transcript's text (text), the result itself
    (json), the subtitles (srt, vtt: `content`, also a pipeline's last step's)."""
    if result is None:
        raise ResultError("the job completed without a result")
    if fmt == "json":
        return json.dumps(dict(result), indent=2, ensure_ascii=False) + "\n"
    key = "text" if fmt == "text" else "content"
    value = result.get(key)
    if not isinstance(value, str):
        raise ResultError(f"the job's result has no {key!r} (result type {result.get('type')!r})")
    return value if value.endswith("\n") or not value else value + "\n"


def folder(path: Path) -> Path:
    """The output folder, made if missing."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write through a temporary file beside it: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
