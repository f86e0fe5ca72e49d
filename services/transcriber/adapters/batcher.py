"""A dynamic batcher: chunks of every job a replica holds, decoded together.

Jobs hand in all their chunks at once (`submit`); `workers` threads each build a batch
from the chunks of one key (options that must match), waiting up to `max_wait_s` after
the oldest job arrived for a batch to fill (see `_take` for who goes first), and run it.
Each chunk's result goes back to its own job.

One worker per model worker: on a GPU one large batch at a time keeps it busiest; on a
CPU a batch of one or two chunks leaves about a third of the cores idle, so two batches
run at once there.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.common.logging import get_logger

log = get_logger(__name__)

RunBatch = Callable[[Sequence["Chunk"]], Sequence[Any]]


@dataclass(eq=False)  # identity: a job is its own ticket
class Chunk:
    ticket: Ticket
    index: int
    payload: Any


@dataclass(eq=False)  # identity: a job is its own ticket
class Ticket:
    """One job's place in the batcher: its pending chunks, and its results as they come."""

    key: Hashable
    capacity: int  # chunks per batch for this key
    context: Any  # what the batch runner needs besides the chunks (tokenizer, options)
    total: int
    arrived: float = field(default_factory=time.monotonic)
    pending: list[Chunk] = field(default_factory=list)
    results: queue.Queue[tuple[int, Any, BaseException | None]] = field(default_factory=queue.Queue)
    order: int = 0

    def next_result(self, timeout_s: float) -> tuple[int, Any, BaseException | None] | None:
        try:
            return self.results.get(timeout=timeout_s)
        except queue.Empty:
            return None


class ChunkBatcher:
    def __init__(self, run_batch: RunBatch, max_wait_s: float = 0.05, workers: int = 1) -> None:
        self._run_batch = run_batch
        self._max_wait_s = max_wait_s
        self._tickets: list[Ticket] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"chunk-batcher-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        key: Hashable,
        capacity: int,
        context: Any,
        payloads: Sequence[Any],
    ) -> Ticket:
        ticket = Ticket(key=key, capacity=max(1, capacity), context=context, total=len(payloads))
        ticket.pending = [Chunk(ticket, i, p) for i, p in enumerate(payloads)]
        ticket.order = next(self._order)
        if not payloads:
            return ticket
        with self._cond:
            self._tickets.append(ticket)
            self._cond.notify_all()
        return ticket

    def withdraw(self, ticket: Ticket) -> None:
        """Drop a job's chunks not yet decoded (it was cancelled or gave up)."""
        with self._cond:
            ticket.pending.clear()
            if ticket in self._tickets:
                self._tickets.remove(ticket)

    def backlog(self) -> int:
        """Chunks waiting for a batch, all jobs together."""
        with self._cond:
            return sum(len(t.pending) for t in self._tickets)

    def stop(self, timeout_s: float | None = None) -> None:
        """No new batches; waits up to `timeout_s` for those being decoded to end. (A
        daemon thread still inside the model when the interpreter exits can crash it.)"""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _loop(self) -> None:
        while True:
            try:
                batch = self._next_batch()
                if batch is None:
                    return
                self._decode(batch)
            except Exception:  # never let the thread die: jobs wait on it
                log.exception("batcher error")

    def _decode(self, batch: list[Chunk]) -> None:
        try:
            results = self._run_batch(batch)
        except Exception as exc:
            tickets = list(dict.fromkeys(chunk.ticket for chunk in batch))
            if len(tickets) == 1:  # the job's own chunks: it fails (or is retried) alone
                log.exception("batch failed", chunks=len(batch))
                for chunk in batch:
                    chunk.ticket.results.put((chunk.index, None, exc))
                return
            # one job's chunk may be what the model chokes on: each job again on its own
            for ticket in tickets:
                self._decode([chunk for chunk in batch if chunk.ticket is ticket])
            return
        for chunk, result in zip(batch, results, strict=True):
            chunk.ticket.results.put((chunk.index, result, None))

    def _next_batch(self) -> list[Chunk] | None:
        with self._cond:
            while True:
                while not self._stopped and not self._tickets:
                    self._cond.wait()
                if self._stopped:
                    return None
                first = min(self._tickets, key=lambda t: t.order)  # the longest-waiting job
                deadline = first.arrived + self._max_wait_s
                # wait for other jobs' chunks to fill the batch, never past the deadline
                while self._waiting_room(first) < first.capacity and not self._stopped:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopped:  # no new batch once stopping
                    return None
                # not withdrawn, nor taken by another worker, meanwhile
                if first in self._tickets and first.pending:
                    return self._take(first.key, first.capacity)

    def _waiting_room(self, first: Ticket) -> int:
        return sum(len(t.pending) for t in self._tickets if t.key == first.key)

    def _take(self, key: Hashable, capacity: int) -> list[Chunk]:
        """Up to `capacity` chunks of `key`: one of the oldest job's (every batch moves it
        on, so a stream of short jobs never starves a long one), then the jobs with the
        fewest chunks left first, so short jobs finish in one batch instead of all
        finishing together at the end."""
        same = sorted((t for t in self._tickets if t.key == key), key=lambda t: t.order)
        batch = [same[0].pending.pop(0)]
        for ticket in sorted(same, key=lambda t: (len(t.pending), t.order)):
            while ticket.pending and len(batch) < capacity:
                batch.append(ticket.pending.pop(0))
        for ticket in same:
            if not ticket.pending:
                self._tickets.remove(ticket)
        return batch
