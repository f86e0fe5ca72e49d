"""Subtitled video, the pure parts: options at the edge, subtitle files read and fitted,
ffmpeg's arguments, and how pipeline steps name the files they read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import srt

from contracts import (
    ConvertOptions,
    InvalidOptionsError,
    JobCompleted,
    JobType,
    OutputFile,
    PipelineStep,
    SrtResult,
    parse_options,
)
from contracts.pipeline_steps import check_pipeline
from contracts.subtitled_video import iso_639_2
from services.common.errors import UnreadableMedia
from services.converter import subtitle_files
from services.converter.adapters.ffmpeg import build_command
from services.converter.presets import burn_filter, track_args
from services.ledger import pipelines, step_files
from services.ledger.records import InputFile

SUB = "6f1c1b1e-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("en", "eng"), ("DE", "deu"), ("ger", "deu"), ("fra", "fra"), ("und", "und")],
)
def test_languages_are_stored_as_iso_639_2_t(given: str, stored: str) -> None:
    assert iso_639_2(given) == stored


@pytest.mark.parametrize("bad", ["xq", "english", "e", "zzz"])
def test_an_unknown_language_is_refused(bad: str) -> None:
    with pytest.raises(InvalidOptionsError, match="language"):
        parse_options(JobType.CONVERT, {"subtitles": [{"file_id": SUB, "language": bad}]})


@pytest.mark.parametrize(
    "options",
    [
        {"preset": "m4a", "subtitles": [{"file_id": SUB}]},
        {"audio_only": True, "subtitles": [{"file_id": SUB}]},
        {"burn_subtitles": True},
        {"subtitles": [{"file_id": SUB}], "subtitle_style": {"font_size": 20}},
        {"subtitles": [{}]},
        {"subtitles": [{"file_id": SUB, "from_step": 0}]},
        {
            "burn_subtitles": True,
            "subtitles": [{"file_id": SUB}],
            "subtitle_style": {"color": "red"},
        },
        {
            "burn_subtitles": True,
            "subtitles": [{"file_id": SUB}],
            "subtitle_style": {"font_size": 500},
        },
    ],
)
def test_subtitle_options_that_cannot_work_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptionsError):
        parse_options(JobType.CONVERT, options)


def test_srt_and_vtt_are_read_into_cues_in_time_order() -> None:
    vtt = (
        b"WEBVTT\n\n00:05.000 --> 00:06.000\nlater\n\n"
        b"00:01.250 --> 00:02.000 line:0\n<v.loud Bob>first</v>\n"
    )
    cues = subtitle_files.read_cues(vtt, "x.vtt")
    assert [(c.start.total_seconds(), c.content) for c in cues] == [
        (1.25, "Bob: first"),
        (5.0, "later"),
    ]
    text = "\ufeff1\n00:00:02,000 --> 00:00:03,000\nhej\n\n2\n00:00:04,000 --> 00:00:05,000\n \n"
    assert [c.content for c in subtitle_files.read_cues(text.encode(), "x.srt")] == ["hej"]


@pytest.mark.parametrize(
    "data", [b"", b"\n\n", b"WEBVTT\n", b"not subtitles at all", bytes(range(256))]
)
def test_a_file_with_no_cue_is_unreadable_and_named(data: bytes) -> None:
    with pytest.raises(UnreadableMedia, match=r"'talk\.srt'"):
        subtitle_files.read_cues(data, "talk.srt")


def cue(start: float, end: float, text: str = "x") -> srt.Subtitle:
    return srt.Subtitle(0, timedelta(seconds=start), timedelta(seconds=end), text)


def test_a_vtt_after_blank_lines_and_a_utf16_srt_are_read() -> None:
    vtt = b"\n\nWEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n"
    assert [c.content for c in subtitle_files.read_cues(vtt, "a.vtt")] == ["hi"]
    utf16 = "1\n00:00:01,000 --> 00:00:02,000\nGrüße\n".encode("utf-16")
    assert [c.content for c in subtitle_files.read_cues(utf16, "a.srt")] == ["Grüße"]


def test_cues_are_shifted_by_the_trim_and_cut_at_the_end() -> None:
    cues = [cue(0, 1, "a"), cue(1.5, 3, "b"), cue(4, 12, "c"), cue(20, 21, "d")]
    fitted = subtitle_files.fit(cues, start_s=1.0, duration_s=5.0)
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in fitted] == [
        (0.5, 2.0, "b"),
        (3.0, 5.0, "c"),
    ]
    assert [c.index for c in fitted] == [1, 2]
    assert len(subtitle_files.fit(cues, 0.0, None)) == 4


def test_soft_tracks_map_every_stream_and_tag_each_track() -> None:
    options = ConvertOptions(
        preset="mkv",
        subtitles=[{"file_id": SUB, "language": "en", "title": "English"}, {"file_id": SUB}],
    )
    argv = build_command("ffmpeg", "in.mov", "out.mkv", options, True, ["a.srt", "b.srt"])
    assert argv[argv.index("-i") + 1] == "in.mov" and argv.count("-i") == 3
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    assert maps == ["0:V?", "0:a?", "1", "2"]
    assert argv[-1] == "out.mkv"
    tail = " ".join(argv)
    assert "-c:s srt" in tail and "-disposition:s:0 default" in tail
    assert "-metadata:s:s:0 language=eng -metadata:s:s:0 title=English" in tail
    assert "-metadata:s:s:1 language=und" in tail


def test_burning_draws_the_first_file_and_adds_no_track() -> None:
    options = ConvertOptions(
        max_height=360,
        burn_subtitles=True,
        subtitles=[{"file_id": SUB}, {"file_id": SUB}],
        subtitle_style={"position": "top", "color": "#ffcc00", "font_size": 30},
    )
    argv = build_command("ffmpeg", "in.mov", "out.mp4", options, True, ["/t/a.srt", "/t/b.srt"])
    vf = argv[argv.index("-vf") + 1]
    assert vf.startswith("scale=-2:min(ih\\,360),subtitles=filename='/t/a.srt'")
    assert "Alignment=6" in vf and "FontSize=30" in vf and "PrimaryColour=&H0000CCFF" in vf
    assert "-map" not in argv and "-c:s" not in argv and "b.srt" not in " ".join(argv)
    assert track_args(options, 0) == []
    with pytest.raises(ValueError, match="quoted"):
        burn_filter("/tmp/it's/a.srt", options.subtitle_style)  # type: ignore[arg-type]


def steps(*raw: dict[str, Any]) -> list[PipelineStep]:
    return [PipelineStep.model_validate(r) for r in raw]


def test_a_video_to_subtitled_video_pipeline_checks() -> None:
    check_pipeline(
        JobType.GENERATE_SRT,
        {},
        steps(
            {"type": "translate_srt", "options": {"target_language": "de"}},
            {
                "type": "translate_srt",
                "options": {"target_language": "fr"},
                "input": {"from_step": 0},
            },
            {
                "type": "convert",
                "input": {"from": "input"},
                "options": {"subtitles": [{"from_step": 0}, {"from_step": 1}, {"from_step": 2}]},
            },
        ),
    )


@pytest.mark.parametrize(
    ("first", "then", "words"),
    [
        ("generate_srt", [{"type": "convert", "input": {"from_step": 1}}], "not a step before 1"),
        ("generate_srt", [{"type": "convert"}], "cannot run on the output of generate_srt"),
        ("convert", [{"type": "fix_srt", "input": {"from": "input"}}], "pipeline's input"),
        (
            "transcribe",
            [
                {
                    "type": "convert",
                    "input": {"from": "input"},
                    "options": {"subtitles": [{"from_step": 0}]},
                }
            ],
            r"step 0 \(transcribe\) makes no subtitles",
        ),
        ("convert", [], "not a step before 0"),
    ],
)
def test_references_that_cannot_work_are_named(
    first: str, then: list[dict[str, Any]], words: str
) -> None:
    first_options = {"subtitles": [{"from_step": 0}]} if not then else {}
    with pytest.raises(ValueError, match=words):
        check_pipeline(JobType(first), first_options, steps(*then))


def output(name: str) -> OutputFile:
    file_id = uuid4()
    return OutputFile(
        id=file_id, object_key=f"out/{file_id}/{name}", filename=name, content_type="x", size=1
    )


def completed(job_id: UUID, out: OutputFile) -> JobCompleted:
    result = SrtResult(file_id=out.id, format="srt", content="", cue_count=1, language="en")
    return JobCompleted(job_id=job_id, result=result, outputs=[out])


def test_each_step_reads_what_it_names_once_that_is_known() -> None:
    """generate_srt (0) → translate_srt (1) → convert of the input with both SRTs (2)."""
    root = uuid4()
    video = InputFile(uuid4(), "uploads/v", "talk.mkv", "abc")
    stored = [
        s.model_dump(mode="json", exclude_none=True)
        for s in steps(
            {"type": "translate_srt", "options": {"target_language": "de"}},
            {
                "type": "convert",
                "input": {"from": "input"},
                "options": {"subtitles": [{"from_step": 0, "language": "eng"}, {"from_step": 1}]},
            },
        )
    ]
    remaining = step_files.with_pipeline_input(stored, video)
    english = output("subtitles.srt")
    first = pipelines.next_step(root, 0, remaining, completed(root, english))
    assert first is not None and first.type == "translate_srt"
    assert first.file.id == english.id and first.attachments == []  # the previous output
    german = output("translated.srt")
    second = pipelines.next_step(root, 1, first.remaining, completed(first.job_id, german))
    assert second is not None and second.type == "convert" and second.remaining == []
    assert (second.file.id, second.file.key, second.file.sha256) == (video.id, "uploads/v", "abc")
    tracks = second.options["subtitles"]
    assert [(t["file_id"], t["from_step"], t.get("language")) for t in tracks] == [
        (str(english.id), None, "eng"),
        (str(german.id), None, None),
    ]
    assert [(a.file_id, a.key) for a in second.attachments] == [
        (english.id, english.object_key),
        (german.id, german.object_key),
    ]
    ConvertOptions.model_validate(second.options)  # what the converter will parse
    again = pipelines.next_step(root, 1, first.remaining, completed(first.job_id, german))
    assert again == second  # a redelivered completion: the same step, the same files


def test_a_step_after_one_without_a_file_runs_on_what_it_names() -> None:
    """generate_srt (0) → summarize (1, no file) → fix_srt of step 0's output (2)."""
    root = uuid4()
    stored = [
        s.model_dump(mode="json", exclude_none=True)
        for s in steps({"type": "summarize"}, {"type": "fix_srt", "input": {"from_step": 0}})
    ]
    english = output("subtitles.srt")
    first = pipelines.next_step(root, 0, stored, completed(root, english))
    assert first is not None and first.file.id == english.id
    summary = JobCompleted(
        job_id=first.job_id,
        result=SrtResult(file_id=uuid4(), format="srt", content="", cue_count=0, language="en"),
        outputs=[],
    )
    second = pipelines.next_step(root, 1, first.remaining, summary)
    assert second is not None and second.type == "fix_srt" and second.file.id == english.id
    lost = [{"type": "fix_srt", "options": {}}]  # no input named, and no file before it
    assert pipelines.next_step(root, 1, lost, summary) is None
