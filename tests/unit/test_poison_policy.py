"""The poison policy's pieces: the verdict, NUL sanitising, excerpts, and what a
PostgreSQL error means."""

from __future__ import annotations

import json

import asyncpg
import pytest

from contracts.dead_letters import excerpt
from services.ledger import poison
from services.ledger.adapters.pg import errors as pg_errors
from services.ledger.sanitise import without_nul

pytestmark = pytest.mark.unit


def test_an_outage_is_retried_without_bound_and_refused_data_is_given_up_at_once() -> None:
    assert poison.verdict(unavailable=True, refused=False, delivered=10_000) is poison.Verdict.RETRY
    assert poison.verdict(unavailable=False, refused=True, delivered=1) is poison.Verdict.GIVE_UP


def test_other_errors_are_retried_up_to_the_bound() -> None:
    decided = [
        poison.verdict(unavailable=False, refused=False, delivered=n)
        for n in range(1, poison.MAX_DELIVERIES + 1)
    ]
    assert decided[:-1] == [poison.Verdict.RETRY] * (poison.MAX_DELIVERIES - 1)
    assert decided[-1] is poison.Verdict.GIVE_UP
    assert poison.retry_delay_s(1) == 2.0 and poison.retry_delay_s(100) == 30.0


def test_nul_is_replaced_in_every_string_and_key_and_nothing_else_changes() -> None:
    raw = json.dumps({"a\x00": ["x\x00y", 1, None, {"m": "\x00"}], "b": "plain"}).encode()
    assert json.loads(without_nul(raw)) == {
        "a\ufffd": ["x\ufffdy", 1, None, {"m": "\ufffd"}],
        "b": "plain",
    }
    clean = b'{"a": "no nul here"}'
    assert without_nul(clean) is clean
    assert without_nul(b"not json \\u0000") == b"not json \\u0000"


def test_an_excerpt_is_printable_text_without_nul() -> None:
    text = excerpt(b"ok\x00\xff" + b"z" * 2000)
    assert text.startswith("ok\\x00\\xff") and "\x00" not in text and len(text) == 512


@pytest.mark.parametrize(
    ("exc", "unavailable", "refused"),
    [
        (ConnectionRefusedError(), True, False),
        (TimeoutError(), True, False),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), True, False),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), True, False),
        (asyncpg.exceptions.InterfaceError("pool is closing"), True, False),
        (asyncpg.exceptions.UntranslatableCharacterError("\\u0000"), False, True),
        (asyncpg.exceptions._base.DataError("value out of int32 range"), False, True),
        (asyncpg.exceptions.UniqueViolationError("dup"), False, True),
        (ValueError("a bug"), False, False),
    ],
)
def test_postgresql_errors_are_told_apart(
    exc: BaseException, unavailable: bool, refused: bool
) -> None:
    assert pg_errors.unavailable(exc) is unavailable
    assert pg_errors.refused(exc) is refused


@pytest.mark.parametrize(
    "data",
    [b'{"a": "\\u0000\\ud800"}', b"[" * 5000 + b'"\\u0000"', b'{"a": "\\u0000"', b"\\u0000"],
)
def test_sanitising_never_raises_and_leaves_what_it_cannot_read_as_sent(data: bytes) -> None:
    assert without_nul(data) == data
