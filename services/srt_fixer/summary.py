"""Summaries: the text of a transcript or an SRT, in chunks, then combined. Pure."""

from __future__ import annotations

import json

from .fixer import InvalidAnswer, SubtitleParseError, load_json, parse

CHUNK_CHARS = 12_000  # comfortably inside any current model's context

SUMMARY_PROMPT = (
    "You summarise transcripts of recordings. Write a faithful summary of at most "
    "{max_words} words{language}, as {style}. Do not invent facts."
)
COMBINE_NOTE = "The input holds summaries of consecutive parts of one recording: merge them."
ANSWER_FORMAT = 'Answer with one JSON object: {"summary": "<the summary>"}.'
STYLES = {"paragraph": "one or more plain paragraphs", "bullets": "a list of '- ' bullet points"}


class NotATextSource(ValueError):
    pass


def text_of(data: bytes) -> str:
    """Plain text from the transcriber's transcript JSON or from an SRT file."""
    raw = data.decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("text"), str) and doc["text"].strip():
            return str(doc["text"])
        segments = doc.get("segments")
        if isinstance(segments, list):
            return " ".join(str(s.get("text", "")) for s in segments if isinstance(s, dict))
        raise NotATextSource("JSON without transcript text")
    try:
        cues = parse(raw)
    except SubtitleParseError as exc:
        message = "neither a transcript nor an SRT file"
        raise NotATextSource(
            f"{message}: {exc.reason}" if exc.reason is not None else message
        ) from exc
    return " ".join(c.content.replace("\n", " ") for c in cues)


def split(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Pieces of at most `size` characters, cut at word boundaries."""
    words, pieces, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def prompt(max_words: int, style: str, language: str | None, system: str | None) -> str:
    base = system or SUMMARY_PROMPT.format(
        max_words=max_words,
        style=STYLES[style],
        language=f" in the language with code {language}" if language else "",
    )
    return f"{base}\n\n{ANSWER_FORMAT}"


def messages(
    system: str, text: str | None = None, summaries: list[str] | None = None
) -> list[dict[str, str]]:
    user: dict[str, object] = (
        {"summaries": summaries, "note": COMBINE_NOTE} if summaries is not None else {"text": text}
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(user, ensure_ascii=False)},
    ]


def validate(answer: str) -> str:
    data = load_json(answer)
    summary = data.get("summary") if isinstance(data, dict) else None
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidAnswer('no "summary" text in the answer')
    return summary.strip()
