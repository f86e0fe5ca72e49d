"""Which input keys a worker accepts: only keys of the media bucket's own layout."""

from __future__ import annotations

import pytest

from services.common.admission import input_key_problem


@pytest.mark.parametrize("key", ["files/3f2a", "jobs/3f2a/transcript.json", "jobs/x/y/z.srt"])
def test_keys_of_uploads_and_outputs_are_accepted(key: str) -> None:
    assert input_key_problem(key) is None


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "files/../../etc/passwd", "jobs/a/../../b", "other/x", ".."]
)
def test_keys_that_leave_the_layout_are_refused(key: str) -> None:
    assert input_key_problem(key) is not None
