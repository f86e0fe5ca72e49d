"""The transcriber's dynamic batcher: who shares a batch, who goes first, what comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from services.transcriber.adapters.batcher import Chunk, ChunkBatcher, Ticket


class Recorder:
    """A batch runner that records each batch as (job, chunk) names; `gate` holds the
    first batch until released, so the tests can queue work behind it."""

    def __init__(self, hold_first: bool = False) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.keys: list[set[Any]] = []
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()
        self.fail_on: str | None = None

    def __call__(self, batch: Sequence[Chunk]) -> Sequence[Any]:
        self.gate.wait(10)
        names = [(c.ticket.context, c.index) for c in batch]
        self.batches.append(names)
        self.keys.append({c.ticket.key for c in batch})
        if self.fail_on is not None and any(job == self.fail_on for job, _ in names):
            raise RuntimeError("model fell over")
        return [f"{job}:{index}" for job, index in names]


def running(batcher: ChunkBatcher) -> None:
    """Returns once the batcher has taken everything submitted so far into a batch."""
    deadline = time.monotonic() + 10
    while batcher.backlog() and time.monotonic() < deadline:
        time.sleep(0.01)


def results(ticket: Ticket) -> list[Any]:
    out: dict[int, Any] = {}
    while len(out) < ticket.total:
        got = ticket.next_result(timeout_s=10)
        assert got is not None, "a result never came"
        index, result, error = got
        if error is not None:
            raise error
        out[index] = result
    return [out[i] for i in range(ticket.total)]


def test_chunks_of_several_jobs_share_one_batch_and_each_gets_its_own_back() -> None:
    run = Recorder(hold_first=True)
    batcher = ChunkBatcher(run, max_wait_s=0.2)
    blocker = batcher.submit("k", 8, "blocker", ["x"])
    running(batcher)
    tickets = [batcher.submit("k", 8, f"job{i}", ["a", "b"]) for i in range(4)]
    run.gate.set()
    assert results(blocker) == ["blocker:0"]
    assert [results(t) for t in tickets] == [[f"job{i}:0", f"job{i}:1"] for i in range(4)]
    assert len(run.batches) == 2 and len(run.batches[1]) == 8  # the four jobs in one batch
    batcher.stop()


def test_incompatible_options_never_share_a_batch() -> None:
    run = Recorder(hold_first=True)
    batcher = ChunkBatcher(run, max_wait_s=0.2)
    first = batcher.submit("en", 8, "blocker", ["x"])
    running(batcher)
    english = batcher.submit("en", 8, "en-job", ["a", "b"])
    french = batcher.submit("fr", 8, "fr-job", ["a", "b"])
    run.gate.set()
    for ticket in (first, english, french):
        results(ticket)
    assert all(len(keys) == 1 for keys in run.keys), run.batches
    assert len(run.batches) == 3
    batcher.stop()


def test_a_short_job_does_not_wait_behind_a_long_one() -> None:
    run = Recorder(hold_first=True)
    batcher = ChunkBatcher(run, max_wait_s=0.2)
    long = batcher.submit("k", 4, "long", list(range(12)))
    short = batcher.submit("k", 4, "short", ["a"])
    run.gate.set()
    results(short)
    results(long)
    # the long job's first chunk went first (it arrived first), the short one right with it
    assert ("short", 0) in run.batches[0] or ("short", 0) in run.batches[1]
    assert all(any(job == "long" for job, _ in b) for b in run.batches)  # never starved
    assert [i for b in run.batches for j, i in b if j == "long"] == list(range(12))
    batcher.stop()


def test_a_lone_job_waits_at_most_the_batch_wait() -> None:
    run = Recorder()
    batcher = ChunkBatcher(run, max_wait_s=0.3)
    started = time.monotonic()
    assert results(batcher.submit("k", 8, "alone", ["a"])) == ["alone:0"]
    assert time.monotonic() - started < 5  # not stuck waiting for company
    batcher.stop()


def test_a_failed_batch_fails_its_jobs_and_the_batcher_goes_on() -> None:
    run = Recorder(hold_first=True)
    run.fail_on = "bad"
    batcher = ChunkBatcher(run, max_wait_s=0.0)
    bad = batcher.submit("k", 1, "bad", ["a"])
    good = batcher.submit("k", 1, "good", ["a"])
    run.gate.set()
    with pytest.raises(RuntimeError, match="fell over"):
        results(bad)
    assert results(good) == ["good:0"]
    batcher.stop()


def test_a_withdrawn_job_leaves_the_backlog() -> None:
    run = Recorder(hold_first=True)
    batcher = ChunkBatcher(run, max_wait_s=0.0)
    batcher.submit("k", 1, "blocker", ["x"])
    running(batcher)  # the blocker's batch is running, held
    cancelled = batcher.submit("k", 1, "cancelled", list(range(5)))
    assert batcher.backlog() == 5
    batcher.withdraw(cancelled)
    assert batcher.backlog() == 0
    run.gate.set()
    time.sleep(0.2)
    assert all(job != "cancelled" for b in run.batches for job, _ in b)
    batcher.stop()


async def test_demand_slots_are_taken_only_while_work_is_wanted() -> None:
    import asyncio

    from services.common.slot_puller import DemandSlots

    wanted = False
    asked: list[int] = []

    def demand(held: int) -> bool:
        asked.append(held)
        return wanted

    slots = DemandSlots(4, demand, poll_s=0.01)
    waiter = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0.1)
    assert not waiter.done()  # free slots, but no demand: the queue stays for others
    wanted = True
    assert await asyncio.wait_for(waiter, 2) is True
    await slots.acquire()
    assert asked[-1] == 0  # a slot taken for a fetch is no job held
    slots.release()  # the fetch brought nothing
    slots.took()  # the first fetch brought a job
    await slots.acquire()
    assert asked[-1] == 1
    slots.release()
    slots.settled()
    await slots.acquire()
    assert asked[-1] == 0 and set(asked) == {0, 1}


def test_one_bad_job_in_a_shared_batch_fails_alone() -> None:
    run = Recorder(hold_first=True)
    run.fail_on = "bad"
    batcher = ChunkBatcher(run, max_wait_s=0.2)
    blocker = batcher.submit("k", 8, "blocker", ["x"])
    running(batcher)
    bad = batcher.submit("k", 8, "bad", ["a"])
    good = batcher.submit("k", 8, "good", ["a", "b"])
    run.gate.set()
    results(blocker)
    assert results(good) == ["good:0", "good:1"]  # decoded again without the bad one
    with pytest.raises(RuntimeError, match="fell over"):
        results(bad)
    batcher.stop()


def test_the_job_being_waited_for_may_be_withdrawn_and_the_batcher_goes_on() -> None:
    run = Recorder()
    batcher = ChunkBatcher(run, max_wait_s=0.5)
    gone = batcher.submit("k", 8, "gone", ["a"])  # the batcher waits for company...
    time.sleep(0.1)
    batcher.withdraw(gone)  # ...and the job it waits for is cancelled meanwhile
    time.sleep(0.6)
    assert batcher.alive
    assert results(batcher.submit("k", 1, "next", ["a"])) == ["next:0"]
    assert all(job != "gone" for b in run.batches for job, _ in b)
    batcher.stop()


def test_stop_waits_for_the_batch_being_decoded_and_starts_no_other() -> None:
    run = Recorder(hold_first=True)
    batcher = ChunkBatcher(run, max_wait_s=0.0)
    first = batcher.submit("k", 1, "first", ["x"])
    running(batcher)  # the first batch is in the model, held by the gate
    later = batcher.submit("k", 1, "later", ["y"])
    threading.Timer(0.3, run.gate.set).start()
    started = time.monotonic()
    batcher.stop(timeout_s=10)
    assert time.monotonic() - started >= 0.25  # it waited for the batch in hand
    assert not batcher.alive
    assert results(first) == ["first:0"]
    assert later.next_result(timeout_s=0.1) is None  # never decoded
    assert run.batches == [[("first", 0)]]


class Overlap:
    """A batch runner that takes 0.3 s (room for a loaded machine) and records how many
    batches (and how many of one job's) ran at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.most = 0
        self.most_by_job: dict[str, int] = {}

    def __call__(self, batch: Sequence[Chunk]) -> Sequence[Any]:
        jobs = {c.ticket.context for c in batch}
        with self.lock:
            self.running.extend(jobs)
            self.most = max(self.most, len(self.running))
            for job in jobs:
                self.most_by_job[job] = max(self.most_by_job.get(job, 0), self.running.count(job))
        time.sleep(0.3)
        with self.lock:
            for job in jobs:
                self.running.remove(job)
        return [f"{c.ticket.context}:{c.index}" for c in batch]


def test_two_workers_decode_two_batches_at_once() -> None:
    run = Overlap()
    batcher = ChunkBatcher(run, max_wait_s=0.0, workers=2)
    tickets = [batcher.submit("k", 1, f"job{i}", ["a", "b"]) for i in range(3)]
    assert [results(t) for t in tickets] == [[f"job{i}:0", f"job{i}:1"] for i in range(3)]
    assert run.most == 2
    batcher.stop(timeout_s=5)
    assert not batcher.alive


def test_one_jobs_batches_are_decoded_by_several_workers_at_once() -> None:
    """A lone job (a word-timestamp one is batched alone) keeps every worker busy: its
    words are aligned in order after decoding (alignment.py), not inside the batch."""
    run = Overlap()
    batcher = ChunkBatcher(run, max_wait_s=0.0, workers=3)
    job = batcher.submit("words", 1, "job", list("abcdef"))
    assert results(job) == [f"job:{i}" for i in range(6)]
    assert run.most_by_job == {"job": 3}
    batcher.stop(timeout_s=5)


def test_stop_while_a_batch_waits_to_fill_starts_no_batch() -> None:
    run = Recorder()
    batcher = ChunkBatcher(run, max_wait_s=2.0, workers=2)
    batcher.submit("k", 4, "job", ["x"])  # one chunk of four: the batch waits to fill
    time.sleep(0.1)
    started = time.monotonic()
    batcher.stop(timeout_s=5)
    assert time.monotonic() - started < 1.5 and not batcher.alive
    assert run.batches == []
