"""The public wire surface: names, schemas and parsing rules."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from pydantic import ValidationError

import contracts
from contracts import (
    InvalidOptionsError,
    JobCompleted,
    JobType,
    SubmitJob,
    TranscribeResult,
    parse_event,
    parse_options,
)
from contracts.schema_export import render


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(contracts) if not n.startswith("_")}
    modules = {
        "base",
        "commands",
        "dead_letters",
        "enums",
        "events",
        "ledger_api",
        "options",
        "queue",
        "records",
        "results",
        "schema_export",
        "streams",
        "subjects",
        "raw",
        "validation",
        "subtitled_video",
        "pipeline_steps",  # not re-exported, but loaded by whoever checks pipelines
    }
    assert set(contracts.__all__) == public - modules | {"raw", "streams", "subjects"}


def test_every_message_carries_schema_version() -> None:
    for name, text in render().items():
        if name == "asyncapi.json" or name.endswith("Options.json") or name == "JobResult.json":
            continue
        schema = json.loads(text)
        variants = [schema] if "properties" in schema else list(schema.get("$defs", {}).values())
        assert any("schema_version" in v.get("properties", {}) for v in variants), name


def test_an_event_round_trips_through_json() -> None:
    event = JobCompleted(
        job_id=uuid4(),
        result=TranscribeResult(
            text="hi", language="en", language_probability=0.9, duration_s=1.0, segments=[]
        ),
    )
    parsed = parse_event(event.model_dump_json())
    assert parsed == event
    assert isinstance(parsed, JobCompleted)


def test_an_unknown_schema_version_is_rejected_not_guessed() -> None:
    raw = json.loads(
        JobCompleted(
            job_id=uuid4(),
            result=TranscribeResult(
                text="", language="en", language_probability=1, duration_s=0, segments=[]
            ),
        ).model_dump_json()
    )
    raw["schema_version"] = 2
    with pytest.raises(ValidationError):
        parse_event(json.dumps(raw))


def test_an_unknown_event_kind_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_event(json.dumps({"kind": "exploded", "job_id": str(uuid4())}))


def test_invalid_options_name_the_offending_field() -> None:
    with pytest.raises(InvalidOptionsError) as info:
        parse_options(JobType.TRANSCRIBE, {"beam_size": 0})
    assert info.value.field == "beam_size"
    assert "options.beam_size" in str(info.value)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(InvalidOptionsError) as info:
        parse_options(JobType.TRANSCRIBE, {"beamsize": 3})
    assert info.value.field == "beamsize"


def test_options_get_their_defaults() -> None:
    options = parse_options(JobType.GENERATE_SRT, {})
    assert options.model_dump()["max_chars_per_line"] == 42
    assert options.model_dump()["format"] == "srt"


def test_a_submission_with_an_unknown_type_does_not_parse() -> None:
    with pytest.raises(ValidationError):
        SubmitJob.model_validate({"job_id": str(uuid4()), "type": "teleport"})
