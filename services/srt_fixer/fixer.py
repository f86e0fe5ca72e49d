"""The LLM only ever edits text: chunking, prompts and answer validation. Pure.

Cues go out as numbered text (with a little context from the neighbouring chunks);
the model answers a JSON object index → text. An answer is accepted only with exactly
the asked indices, non-empty texts and no timing in them; otherwise the chunk is asked
once more, then keeps its original text and is reported. A line of only whitespace in
an accepted text would end the cue in the written file: it is dropped (the answer is
not refused for it), the rest of the model's text is kept. Timestamps and cue count of
the output are those of the input, always: only `content` is ever replaced. A speaker
label the transcriber wrote (`SPEAKER_00: ` at a cue's start) is not sent: the model
sees the words only, and the label is put back in front of its text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import srt

TIMING = re.compile(r"\d{1,2}:\d{2}:\d{2}[,.]\d{3}|-->")
SPEAKER_LABEL = re.compile(r"^(SPEAKER_\d{2,}): ")


def split_label(content: str) -> tuple[str, str]:
    """("SPEAKER_00: ", "words") for a labelled cue, ("", content) otherwise."""
    found = SPEAKER_LABEL.match(content)
    return (found.group(0), content[found.end() :]) if found else ("", content)


CONTEXT_CUES = 2

FIX_PROMPT = (
    "You correct subtitles produced by speech recognition. Fix misheard words, spelling, "
    "punctuation and casing; keep the meaning, the language and each cue's line breaks "
    "where sensible. Never merge, split, add or drop cues."
)
TRANSLATE_PROMPT = (
    "You translate subtitles into {language}. Translate every cue faithfully and "
    "naturally, one cue for one cue, keeping line breaks where sensible. Never merge, "
    "split, add or drop cues."
)
ANSWER_FORMAT = (
    "Answer with one JSON object mapping each cue number (as a string) to its new text, "
    'for exactly the numbers under "cues" and nothing else. Use \\n for line breaks. '
    "Never include timestamps."
)


class SubtitleParseError(ValueError):
    """Not an SRT file; `reason` is the parser's word, None when it simply holds no cue."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


def decode(data: bytes) -> str:
    """An SRT file's text: UTF-8 (with or without BOM), else Latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse(text: str) -> list[srt.Subtitle]:
    """The cues of an SRT file (at least one); the one place SRT text is parsed."""
    try:
        cues = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise SubtitleParseError(f"not a valid SRT file: {exc}", str(exc)) from exc
    if not cues:
        raise SubtitleParseError("the SRT file has no cues")
    return cues


@dataclass
class Chunk:
    number: int
    cues: list[srt.Subtitle]
    before: list[srt.Subtitle]
    after: list[srt.Subtitle]

    @property
    def keys(self) -> list[str]:
        return [str(i) for i in range(len(self.cues))]


def chunk(cues: list[srt.Subtitle], size: int) -> list[Chunk]:
    out = []
    for n, start in enumerate(range(0, len(cues), size)):
        end = start + size
        out.append(
            Chunk(
                n,
                cues[start:end],
                cues[max(0, start - CONTEXT_CUES) : start],
                cues[end : end + CONTEXT_CUES],
            )
        )
    return out


def messages(chunk_: Chunk, system_prompt: str) -> list[dict[str, str]]:
    # Cues are numbered within the chunk (0..n-1): the model never sees real indices or times.
    payload = {
        "context_before": [split_label(c.content)[1] for c in chunk_.before],
        "cues": {
            key: split_label(cue.content)[1]
            for key, cue in zip(chunk_.keys, chunk_.cues, strict=True)
        },
        "context_after": [split_label(c.content)[1] for c in chunk_.after],
    }
    return [
        {"role": "system", "content": f"{system_prompt}\n\n{ANSWER_FORMAT}"},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
    ]


class InvalidAnswer(ValueError):
    pass


def load_json(answer: str) -> Any:
    """The JSON value of a model's answer (a fenced block is tolerated), or InvalidAnswer."""
    text = answer.strip()
    if text.startswith("```"):  # a fenced block despite the instructions
        text = text.strip("`").removeprefix("json").strip()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidAnswer("the answer is not JSON") from exc
    except RecursionError as exc:  # nested past the parser's recursion limit
        raise InvalidAnswer("the answer is not JSON (nested too deeply)") from exc


def validate(answer: str, chunk_: Chunk) -> dict[str, str]:
    """The new texts by key, or InvalidAnswer saying what is wrong."""
    data = load_json(answer)
    if isinstance(data, dict) and isinstance(data.get("cues"), dict):
        data = data["cues"]
    if not isinstance(data, dict):
        raise InvalidAnswer("the answer is not a JSON object")
    expected = set(chunk_.keys)
    got = {str(k) for k in data}
    if got != expected:
        missing, extra = sorted(expected - got), sorted(got - expected)
        raise InvalidAnswer(f"wrong cue numbers (missing {missing[:5]}, extra {extra[:5]})")
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise InvalidAnswer(f"cue {key}: empty or not text")
        if TIMING.search(value):
            raise InvalidAnswer(f"cue {key}: contains timing")
        out[str(key)] = cue_text(value)
    return out


def cue_text(value: str) -> str:
    """A model's cue text as it can be written into an SRT file: lines end in LF (CRLF
    and a lone CR are line breaks too) and whitespace-only lines are dropped, since a
    blank line ends a cue for SRT readers (ffmpeg would show only the lines before it).
    The words and the other line breaks are the model's; the ends are trimmed."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line for line in lines if line.strip()).strip()


@dataclass
class Outcome:
    cues: list[srt.Subtitle]
    changed: int = 0
    kept: int = 0
    warnings: list[str] = field(default_factory=list)


def apply(
    chunk_: Chunk, texts: dict[str, str] | None, reason: str | None, outcome: Outcome
) -> None:
    """Write a chunk's accepted texts (or keep its originals) into the outcome."""
    for key, cue in zip(chunk_.keys, chunk_.cues, strict=True):
        label = split_label(cue.content)[0]
        new = label + split_label(texts[key])[1] if texts is not None else cue.content
        if texts is None:
            outcome.kept += 1
        elif new != cue.content:
            outcome.changed += 1
        outcome.cues.append(srt.Subtitle(cue.index, cue.start, cue.end, new, cue.proprietary))
    if texts is None:
        first, last = chunk_.cues[0].index, chunk_.cues[-1].index
        outcome.warnings.append(f"cues {first}-{last} kept unchanged: {reason}")


def compose(cues: list[srt.Subtitle]) -> str:
    composed: str = srt.compose(cues, reindex=False)
    return composed
