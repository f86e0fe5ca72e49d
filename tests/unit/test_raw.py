"""`contracts.raw`: what a message's bytes name, read without ever raising."""

from __future__ import annotations

from uuid import UUID

import pytest

from contracts import raw

JOB = "00000000-0000-0000-0000-000000000001"


def test_a_valid_message_names_its_kind_and_job() -> None:
    data = f'{{"kind": "completed", "job_id": "{JOB}"}}'.encode()
    assert raw.json_object(data) == {"kind": "completed", "job_id": JOB}
    assert raw.event_kind(data) == "completed"
    assert raw.job_id(data) == UUID(JOB)


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 1000,  # nested past the recursion limit: RecursionError used to escape
        "[" * 100_000,
        b'{"job_id": "' + JOB.encode() + b'", "x": ' + b"[" * 5000,
        b"\xff\xfe\x00",  # not UTF-8
        b"1" * 5000,  # an integer past Python's digit limit
        b"[1, 2]",
        b"",
    ],
)
def test_poison_bytes_are_not_a_json_object(data: bytes | str) -> None:
    assert raw.json_object(data) == {}
    assert raw.event_kind(data) is None
    assert raw.job_id(data) is None
