"""LLM answers are accepted only when they cannot break a subtitle file."""

from __future__ import annotations

import json

import pytest
import srt

from services.srt_fixer import fixer

SOURCE = "".join(f"{i}\n00:00:0{i},000 --> 00:00:0{i},500\nline {i}\n\n" for i in range(1, 6))


def chunks(size: int = 2) -> list[fixer.Chunk]:
    return fixer.chunk(fixer.parse(SOURCE), size)


def test_chunks_carry_context_from_their_neighbours() -> None:
    first, second, last = chunks()
    assert [c.content for c in second.before] == ["line 1", "line 2"]
    assert [c.content for c in second.after] == ["line 5"]
    assert first.before == [] and last.after == []
    payload = json.loads(fixer.messages(second, "fix")[1]["content"])
    assert payload["cues"] == {"0": "line 3", "1": "line 4"}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("not json", "not JSON"),
        ('["a", "b"]', "not a JSON object"),
        ('{"0": "a"}', "wrong cue numbers"),
        ('{"0": "a", "1": "b", "2": "c"}', "wrong cue numbers"),
        ('{"0": "a", "1": "  "}', "empty"),
        ('{"0": "a", "1": "00:00:01,000 --> 00:00:02,000 b"}', "timing"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(answer: str, reason: str) -> None:
    with pytest.raises(fixer.InvalidAnswer, match=reason):
        fixer.validate(answer, chunks()[0])


def test_a_fenced_answer_and_a_wrapped_one_are_accepted() -> None:
    chunk = chunks()[0]
    assert fixer.validate('```json\n{"0": "A", "1": "B"}\n```', chunk) == {"0": "A", "1": "B"}
    assert fixer.validate('{"cues": {"0": "A", "1": "B"}}', chunk) == {"0": "A", "1": "B"}


def test_applying_answers_never_touches_timing() -> None:
    outcome = fixer.Outcome(cues=[])
    first, second, last = chunks()
    fixer.apply(first, {"0": "ONE", "1": "line 2"}, None, outcome)
    fixer.apply(second, None, "the answer is not JSON", outcome)
    fixer.apply(last, {"0": "FIVE"}, None, outcome)
    result = list(srt.parse(fixer.compose(outcome.cues)))
    original = list(srt.parse(SOURCE))
    assert [(c.index, c.start, c.end) for c in result] == [
        (c.index, c.start, c.end) for c in original
    ]
    assert [c.content for c in result] == ["ONE", "line 2", "line 3", "line 4", "FIVE"]
    assert (outcome.changed, outcome.kept) == (2, 2)
    assert outcome.warnings == ["cues 3-4 kept unchanged: the answer is not JSON"]


def test_a_file_without_cues_is_refused() -> None:
    with pytest.raises(fixer.SubtitleParseError):
        fixer.parse("hello\n")


# --- regressions (found by tests/unit/test_properties.py) ------------------------------------


def test_an_answer_nested_past_the_recursion_limit_is_refused_as_invalid() -> None:
    with pytest.raises(fixer.InvalidAnswer, match="not JSON"):
        fixer.validate("[" * 5000, chunks()[0])


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("first line\n \nsecond", "first line\nsecond"),
        ("first line\r\n\t\r\nsecond", "first line\nsecond"),
        ("first line\r \rsecond", "first line\nsecond"),
        ("  \nfirst line\n\u00a0\n", "first line"),
    ],
)
def test_whitespace_only_lines_in_an_answer_are_dropped(text: str, written: str) -> None:
    """A blank line ends a cue in an SRT file (ffmpeg read only "first line"): the line
    is dropped and the model's text kept, rather than the whole chunk refused."""
    chunk = fixer.chunk(fixer.parse(SOURCE), 1)[0]
    accepted = fixer.validate(json.dumps({"0": text}), chunk)
    assert accepted == {"0": written}
    outcome = fixer.Outcome(cues=[])
    fixer.apply(chunk, accepted, None, outcome)
    [cue] = list(srt.parse(fixer.compose(outcome.cues)))
    assert cue.content == written
    assert (cue.start, cue.end) == (chunk.cues[0].start, chunk.cues[0].end)
