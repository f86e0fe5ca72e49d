"""Who spoke when, through the real transcriber: a conversation of two espeak-ng voices
made at test time, diarized into transcripts and subtitles, and kept through the fixer."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import httpx
import pytest
import srt

from tests.support import conversations, media
from tests.support.client import Api
from tests.support.fake_llm import FakeLlm
from tests.support.infra import unavailable
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "srt-fixer", "gateway")


@pytest.fixture(scope="module")
def stack_env(llm: FakeLlm) -> dict[str, str]:
    return {"LLM_API_BASE": llm.api_base, "LLM_MODEL": "openai/fake", "LLM_API_KEY": "k"}


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> conversations.Conversation:
    if not media.espeak_available():
        unavailable("espeak-ng (test speech)", RuntimeError("run make system-deps"))
    name, voices, order = conversations.SCRIPTS[0]  # two voices taking turns
    return conversations.make(name, voices, order, tmp_path_factory.mktemp("talk"))


@pytest.fixture(scope="module")
def talk_id(api: Api, talk: conversations.Conversation) -> str:
    return str(api.upload(talk.path)["id"])


def on_the_right_speaker(talk: conversations.Conversation, words: list[dict]) -> float:
    """Share of words whose label is the one most often used for their true speaker."""
    pairs = [(w["speaker"], talk.speaker_at((w["start"] + w["end"]) / 2)) for w in words]
    pairs = [(label, truth) for label, truth in pairs if truth is not None]
    names: dict[int, str] = {}
    for truth in {t for _, t in pairs}:
        labels = [label for label, t in pairs if t == truth]
        names[truth] = max(set(labels), key=labels.count)
    return sum(names[t] == label for label, t in pairs) / len(pairs)


def test_a_diarized_transcript_labels_every_segment_and_word(
    api: Api, talk: conversations.Conversation, talk_id: str
) -> None:
    done = api.wait(api.submit(talk_id, options={"language": "en", "diarize": True})["id"], 180)
    assert done["status"] == "completed", done["error"]
    result = done["result"]
    segments = result["segments"]
    words = [w for s in segments for w in s["words"]]
    assert all(s["speaker"] for s in segments) and all(w["speaker"] for w in words)
    assert all(w["speaker"] == s["speaker"] for s in segments for w in s["words"])
    assert [s["speaker"] for s in result["speakers"]] == ["SPEAKER_00", "SPEAKER_01"]
    assert segments[0]["speaker"] == "SPEAKER_00"  # numbered by first appearance
    assert on_the_right_speaker(talk, words) >= 0.9
    # Ten turns: the segments follow them (whisper alone gave far fewer segments).
    changes = sum(a["speaker"] != b["speaker"] for a, b in itertools.pairwise(segments))
    assert changes >= 7
    talk_time = {s["speaker"]: s["talk_time_s"] for s in result["speakers"]}
    for name in talk_time:
        spoken = sum(s["end"] - s["start"] for s in segments if s["speaker"] == name)
        assert talk_time[name] == pytest.approx(spoken, abs=0.01)


def test_a_known_count_is_kept(api: Api, talk_id: str) -> None:
    done = api.wait(api.submit(talk_id, options={"diarize": True, "num_speakers": 1})["id"], 180)
    assert done["status"] == "completed", done["error"]
    assert [s["speaker"] for s in done["result"]["speakers"]] == ["SPEAKER_00"]


def test_vtt_voice_spans_and_srt_labels(
    api: Api, talk: conversations.Conversation, talk_id: str
) -> None:
    vtt = api.wait(
        api.submit(talk_id, "generate_srt", {"diarize": True, "format": "vtt"})["id"], 180
    )
    assert vtt["status"] == "completed", vtt["error"]
    blocks = [b for b in vtt["result"]["content"].split("\n\n")[1:] if b.strip()]
    voices = [re.search(r"<v (SPEAKER_\d\d)>(.*?)</v>", b, re.S) for b in blocks]
    assert all(voices), blocks[:3]
    assert {v.group(1) for v in voices if v} == {"SPEAKER_00", "SPEAKER_01"}
    assert [s["speaker"] for s in vtt["result"]["speakers"]] == ["SPEAKER_00", "SPEAKER_01"]

    labelled = api.wait(api.submit(talk_id, "generate_srt", {"diarize": True})["id"], 180)
    cues = list(srt.parse(labelled["result"]["content"]))
    assert all(re.match(r"SPEAKER_0[01]: \S", c.content) for c in cues)
    # A cue never spans a change: its whole time lies within one speaker's turn or pause.
    for c in cues:
        middle = (c.start + (c.end - c.start) / 2).total_seconds()
        truth = talk.speaker_at(middle)
        assert truth is None or all(
            talk.speaker_at(t) in (truth, None)
            for t in (c.start.total_seconds() + 0.05, c.end.total_seconds() - 0.05)
        ), c
    plain = api.wait(
        api.submit(talk_id, "generate_srt", {"diarize": True, "speaker_labels": False})["id"], 180
    )
    assert "SPEAKER_" not in plain["result"]["content"]
    assert len(list(srt.parse(plain["result"]["content"]))) == len(cues)


def test_the_fixer_keeps_the_labels(api: Api, llm: FakeLlm, talk_id: str) -> None:
    llm.behaviour = "upper"
    job = api.submit(talk_id, "generate_srt", {"diarize": True}, then=[{"type": "fix_srt"}])
    done = api.wait(job["id"], 240)
    assert done["status"] == "completed", done["error"]
    fixed = list(srt.parse(httpx.get(done["result"]["url"], timeout=30).text))
    source = api.get(done["steps"][1]["job_id"])["file_id"]  # step 0's SRT
    url = api.http.get(f"/v1/files/{source}").json()["url"]
    original = list(srt.parse(httpx.get(url, timeout=30).text))
    assert len(fixed) == len(original) and all(": " in c.content for c in original)
    for before, after in zip(original, fixed, strict=True):
        label, words = before.content.split(": ", 1)
        assert after.content == f"{label}: {words.upper()}"  # the label untouched


def test_diarizing_needs_the_option(api: Api, talk_id: str, tmp_path: Path) -> None:
    r = api.http.post(
        "/v1/jobs", json={"type": "transcribe", "file_id": talk_id, "options": {"num_speakers": 2}}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_options"
