"""The short fault subset `make test` runs (the whole table: `make chaos`): a worker
SIGKILLed with jobs in flight, NATS crashed for 3 s and started on its store, and poison
on every consumed subject. Each holds the goals: 0 lost, 0 run twice, 0 duplicate outputs,
every event recorded."""

from __future__ import annotations

import os
import shutil

import pytest

from services.devstack import postgres

from . import rows, rows_load, scenario
from .measure import RowResult
from .world import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, exc: BaseException) -> None:
    """As tests/support/infra.py does (not imported: it does not pass mypy --strict)."""
    message = f"{what} could not be started: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    if shutil.which("espeak-ng") is None:
        unavailable("espeak-ng (test speech)", RuntimeError("run make system-deps"))
    try:
        postgres.postgres_bin_dir()
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    return Lab.at(tmp_path_factory.mktemp("chaos"))


def assert_goals(result: RowResult) -> None:
    detail = f"{result}\nlogs: {result.log_dir}"
    assert result.error is None, detail
    assert result.submitted > 0, detail
    assert result.lost == 0, detail
    assert result.run_twice == 0, detail
    assert result.duplicate_outputs == 0, detail
    assert result.events_missing == 0 and result.events_js == result.events_pg, detail
    assert result.failed == 0, detail


def test_a_transcriber_killed_twice_with_jobs_in_flight_loses_nothing(lab: Lab) -> None:
    short = scenario.Scenario(
        "kill-transcriber", (scenario.TRANSCRIBE,), rows.repeated_kills("transcriber", 2)
    )
    assert_goals(scenario.run(lab, short, 3))


def test_nats_crashed_for_3_s_and_restarted_on_its_store_loses_nothing(lab: Lab) -> None:
    assert_goals(scenario.run(lab, rows.scenarios()["nats-restart-3s"], 3))


def test_poison_on_every_subject_is_cleared_and_good_jobs_finish(lab: Lab) -> None:
    result = rows_load.poison_row(lab, 3)
    assert_goals(result)
    assert result.poison_left == 0, result
