"""A result too large for a message travels as a summary naming where the whole is,
and a page of jobs is cut to fit one message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace

import pytest

from contracts import JobRecord, JobStatus, ResultRef, Segment, TranscribeResult, Word, summarise
from contracts.results import SUMMARY_MAX_CHARS, SUMMARY_MAX_ITEMS
from services.gateway.errors import ApiError
from services.gateway.job_reads import _readable_by
from services.ledger.adapters.pg.jobs import decode_cursor
from services.ledger.queries import fit_page

pytestmark = pytest.mark.unit
REF = ResultRef(object_key="jobs/x/result.json", size=123_456)


def long_transcript() -> TranscribeResult:
    words = [Word(start=i, end=i + 0.5, word=f" w{i}") for i in range(400)]
    segments = [Segment(start=i, end=i + 1, text="t" * 3000, words=words) for i in range(300)]
    return TranscribeResult(
        text="x" * 50_000, language="en", language_probability=0.9, duration_s=4800,
        segments=segments,
    )  # fmt: skip


def test_a_summary_is_small_names_the_whole_and_keeps_the_scalars() -> None:
    whole = long_transcript()
    summary = summarise(whole, REF)
    assert len(whole.model_dump_json()) > 5_000_000
    assert len(summary.model_dump_json()) < 32_000
    assert summary.full_result == REF
    assert summary.text.endswith("…") and len(summary.text) == SUMMARY_MAX_CHARS + 1
    assert len(summary.segments) == SUMMARY_MAX_ITEMS
    assert all(len(s.words or []) == SUMMARY_MAX_ITEMS for s in summary.segments)
    assert (summary.language, summary.duration_s) == (whole.language, whole.duration_s)
    assert TranscribeResult.model_validate_json(summary.model_dump_json()) == summary


def test_a_small_result_is_kept_as_it_is_but_for_the_reference() -> None:
    small = TranscribeResult(
        text="hi", language="en", language_probability=1, duration_s=1, segments=[]
    )
    assert summarise(small, REF).model_copy(update={"full_result": None}) == small


def job(i: int, result_chars: int) -> JobRecord:
    return JobRecord(
        id=uuid.uuid4(), type="transcribe", status=JobStatus.COMPLETED,
        result={"text": "r" * result_chars},
        created_at=datetime(2026, 1, 1, tzinfo=UTC) - timedelta(seconds=i),
    )  # fmt: skip


def test_a_page_is_cut_to_fit_one_message_and_its_cursor_goes_on_after_it() -> None:
    items = [job(i, 10_000) for i in range(100)]
    page = fit_page(items, "cursor-of-the-full-page", max_bytes=64 * 1024)
    assert 1 <= len(page.items) < 100
    assert len(page.model_dump_json()) <= 64 * 1024
    assert page.next_cursor is not None
    last = page.items[-1]
    assert decode_cursor(page.next_cursor) == (last.created_at, last.id)


def test_a_page_that_fits_keeps_its_cursor() -> None:
    items = [job(i, 10) for i in range(10)]
    assert fit_page(items, "c", max_bytes=1024 * 1024).next_cursor == "c"
    assert fit_page(items, None, max_bytes=1024 * 1024).next_cursor is None


class Ledger:
    """Knows the jobs of tenant "a" only."""

    def __init__(self, jobs: set[uuid.UUID]) -> None:
        self.jobs = jobs

    async def get_job(self, job_id: uuid.UUID, owner: str) -> object:
        if owner != "a" or job_id not in self.jobs:
            raise ApiError(404, "job_not_found", "no")
        return object()


async def test_the_api_reads_a_full_result_only_from_the_owners_jobs() -> None:
    mine, other, step = job(0, 1), uuid.uuid4(), uuid.uuid4()
    res = SimpleNamespace(ledger=Ledger({step}))
    readable = partial(_readable_by, res)  # type: ignore[arg-type]
    assert await readable(f"jobs/{mine.id}/result.json", mine, "a")
    assert await readable(f"jobs/{step}/result.json", mine, "a")  # a pipeline step of "a"
    assert not await readable(f"jobs/{other}/result.json", mine, "a")  # not "a"'s job
    assert not await readable(f"jobs/{step}/result.json", mine, "b")
    assert not await readable(f"files/{other}", mine, "a")
    assert not await readable("jobs/not-a-uuid/result.json", mine, "a")
