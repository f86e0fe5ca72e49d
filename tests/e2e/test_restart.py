"""State survives restarts; work submitted while a worker is down runs when it is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


def test_jobs_survive_a_restart_of_every_service(api: Api, stack: Stack, speech_mp3: Path) -> None:
    job = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1})
    done = api.wait(job["id"])
    assert done["status"] == "completed"
    for name in ("gateway", "transcriber", "ledger"):
        stack[name].stop()
    for name in ("ledger", "transcriber", "gateway"):
        stack[name].start()
    for name in ("ledger", "transcriber", "gateway"):
        stack[name].wait_ready()
    again = api.get(job["id"])
    assert again["status"] == "completed"
    assert again["result"] == done["result"]


def test_a_job_submitted_while_the_transcriber_is_down_runs_once_it_is_back(
    api: Api, stack: Stack, speech_mp3: Path
) -> None:
    stack["transcriber"].stop()
    # cache=False: the same file and options completed above, and must run again here.
    job = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1}, cache=False)
    # A window on purpose, to prove a negative: with its only worker down, the job stays
    # pending (nothing fails or loses it) for a while before the worker comes back.
    time.sleep(2)
    assert api.get(job["id"])["status"] == "pending"
    stack["transcriber"].start()
    stack["transcriber"].wait_ready()
    assert api.wait(job["id"])["status"] == "completed"


def test_services_exit_cleanly_on_sigterm(stack: Stack) -> None:
    for name in ("gateway", "transcriber", "ledger"):
        assert stack[name].stop() == 0, stack[name].tail()
    for name in ("ledger", "transcriber", "gateway"):
        stack[name].start()
    for name in ("ledger", "transcriber", "gateway"):
        stack[name].wait_ready()
