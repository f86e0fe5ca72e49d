"""The shape every row shares: a world, N jobs in flight, a fault, the wait for recovery,
then the measurement. A row supplies the work and the fault."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts import streams

from . import media_gen
from .measure import RowResult, judge
from .records import collect, consumers
from .workload import wait_running, wait_terminal
from .world import ALL_SERVICES, Lab, World

SETTLE_S = 3.0  # after the last job is terminal: trailing events reach the ledger
EVENTS_SETTLE_S = 60.0  # at most, for the ledger's event consumer to hold nothing


@dataclass(frozen=True)
class Work:
    """One kind of job: its type, options and input media."""

    job_type: str
    options: dict[str, Any]
    media: Callable[[Path], Path]
    content_type: str = "application/octet-stream"


TRANSCRIBE = Work("transcribe", {"language": "en", "beam_size": 1}, media_gen.speech, "audio/wav")
CONVERT = Work("convert", {"preset": "mp3"}, media_gen.long_wav, "audio/wav")
FIX_SRT = Work("fix_srt", {"chunk_cues": 4}, media_gen.srt, "application/x-subrip")
MIXED = (TRANSCRIBE, CONVERT, FIX_SRT)

Fault = Callable[[World, list[str]], float]  # injects the fault; returns when it ended


@dataclass
class Scenario:
    row: str
    work: tuple[Work, ...]
    fault: Fault
    names: tuple[str, ...] = ALL_SERVICES
    env: dict[str, str] = field(default_factory=dict)
    llm_delay_s: float = 0.5
    deadline_s: float = 240.0  # after the fault ended: what is not terminal then is lost


def submit(world: World, work: tuple[Work, ...], n: int, media_dir: Path) -> list[str]:
    """N jobs round-robin over `work`, each kind's input uploaded once."""
    files = {w.job_type: world.upload(w.media(media_dir), w.content_type) for w in work}
    ids: list[str] = []
    for i in range(n):
        w = work[i % len(work)]
        job = world.submit(files[w.job_type], w.job_type, w.options)
        if job is not None:
            ids.append(job)
    return ids


def run(lab: Lab, scenario: Scenario, n: int) -> RowResult:
    started = time.monotonic()
    try:
        with lab.world(scenario.names, scenario.env, scenario.llm_delay_s) as world:
            result = _run_in(world, lab, scenario, n)
    except Exception as exc:
        result = RowResult(row=scenario.row, error=f"{type(exc).__name__}: {exc}"[:300])
        (lab.root / f"{scenario.row}.error.txt").write_text(traceback.format_exc())
    result.seconds = time.monotonic() - started
    return result


def _run_in(world: World, lab: Lab, scenario: Scenario, n: int) -> RowResult:
    ids = submit(world, scenario.work, n, lab.media_dir)
    wait_running(world.database_url, ids, at_least=1)
    fault_end = scenario.fault(world, ids)
    done = wait_terminal(world.database_url, ids, scenario.deadline_s)
    seen_terminal = time.time()
    time.sleep(SETTLE_S)
    events_settled(world, EVENTS_SETTLE_S)
    result = judge(scenario.row, collect(world, ids), ids, fault_end)
    if done:
        result.all_terminal_s = round(max(0.0, seen_terminal - fault_end), 1)
    result.log_dir = str(world.root / "logs")
    return result


def events_settled(world: World, timeout_s: float) -> bool:
    """Wait until the ledger's event consumer has nothing pending or unacked: an event
    a killed ledger had fetched comes back after the consumer's ack_wait."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = consumers(world).consumers
        except Exception:  # NATS busy or restarting: try again
            state = []
        ledger = [c for c in state if c.name == streams.LEDGER_EVENTS_CONSUMER]
        if ledger and all(c.pending == 0 and c.ack_pending == 0 for c in ledger):
            return True
        time.sleep(0.5)
    return False
