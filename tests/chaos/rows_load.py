"""Rows of load and bad input: poison on every subject, an 80-minute recording with word
timestamps, and 10,000 queued jobs drained."""

from __future__ import annotations

import time

from contracts import streams

from . import faults, media_gen, poison, upstream
from .measure import RowResult, judge
from .records import Records, collect, consumers
from .scenario import MIXED, SETTLE_S, Scenario, Work, submit
from .workload import wait_for, wait_terminal
from .world import Lab, World

POISON_SETTLE_S = 30.0


def poison_left(records: Records) -> int:
    """Messages stuck: still in the work-queue stream, or unfinished on the events consumer."""
    events = [c for c in records.consumers if c.name == streams.LEDGER_EVENTS_CONSUMER]
    return records.jobs_stream_messages + sum(c.pending + c.ack_pending for c in events)


def _settle_poison(world: World) -> Records:
    deadline = time.monotonic() + POISON_SETTLE_S
    state = consumers(world)
    while poison_left(state) and time.monotonic() < deadline:
        time.sleep(1.0)
        state = consumers(world)
    return state


def poison_row(lab: Lab, n: int) -> RowResult:
    started = time.monotonic()
    with lab.world(llm_delay_s=0.2) as world:
        ids = submit(world, MIXED, n, lab.media_dir)
        sent = poison.publish(world.nats_url, ids[0])
        fault_end = time.time()
        done = wait_terminal(world.database_url, ids, 180)
        seen_terminal = time.time()
        time.sleep(SETTLE_S)
        state = _settle_poison(world)
        records = collect(world, ids)
        result = judge("poison", records, ids, fault_end)
        if done:
            result.all_terminal_s = round(max(0.0, seen_terminal - fault_end), 1)
        result.poison_left = poison_left(state)
        redelivered = {c.name: c.redelivered for c in state.consumers if c.redelivered}
        result.notes.insert(0, f"{sent} poison messages on {len(poison.WORKER_TYPES) + 2} subjects")
        result.notes.append(f"dead letters: {records.dead_letters}")
        if redelivered:
            result.notes.append(f"redelivered: {redelivered}")
        result.log_dir = str(world.root / "logs")
    result.seconds = time.monotonic() - started
    return result


def _no_fault(world: World, ids: list[str]) -> float:
    return time.time()


LONG = Work(
    "transcribe",
    {"language": "en", "word_timestamps": True, "beam_size": 1},
    media_gen.long_mp3,
    "audio/mpeg",
)


def long_recording() -> Scenario:
    """One 80-minute MP3 with word timestamps; 'all terminal' is its processing time."""
    env = {"TRANSCRIBER_MAX_CONCURRENT_JOBS": "1"}
    return Scenario("long-80min-words", (LONG,), _no_fault, env=env, deadline_s=45 * 60)


def drain_row(lab: Lab, n: int) -> RowResult:
    """N fix_srt jobs (the cheapest: a 2-cue SRT, an instant LLM) submitted on jobs.submit
    while no srt-fixer runs, then drained by one replica (8 slots)."""
    started = time.monotonic()
    deadline_s = max(300.0, n * 0.25)  # 4 jobs/s at least, or what is left is lost
    with lab.world(llm_delay_s=0.0) as world:
        faults.kill(world, "srt-fixer")
        file_id = world.upload(media_gen.srt(lab.media_dir, cues=2), "application/x-subrip")
        ids = upstream.submit(world.nats_url, file_id, n)
        queued = wait_for(world.database_url, ids, n, frozenset({"pending"}), timeout=900)
        drain_start = time.time()
        faults.start(world, "srt-fixer")
        done = wait_terminal(world.database_url, ids, deadline_s)
        seen_terminal = time.time()
        time.sleep(SETTLE_S)
        result = judge(f"drain-{n}", collect(world, ids), ids, drain_start)
        if done:
            result.all_terminal_s = round(max(0.0, seen_terminal - drain_start), 1)
        if not queued:
            result.notes.append("not every submission was pending before the drain")
        if result.all_terminal_s:
            result.notes.insert(0, f"{n / result.all_terminal_s:.1f} jobs/s drained")
        result.log_dir = str(world.root / "logs")
    result.seconds = time.monotonic() - started
    return result
