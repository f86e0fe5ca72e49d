"""Job creations of concurrent submissions, written together (group commit).

A submission's job used to be one statement and one commit of its own; under load the
ledger's time went to round trips and commits. Now a creation waits while the writers
(two) have a statement in flight, and goes with every creation that arrived meanwhile
in the next one (adapters/pg/job_groups.py): no delay when the ledger is idle, large groups when it
is busy. A group the database refuses is written again one job at a time, so a job it
cannot hold fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib

from .adapters.pg import Pool, job_groups
from .adapters.pg import errors as pg_errors
from .adapters.pg import jobs as pg_jobs
from .builders import PlannedJob
from .metrics import CREATION_GROUP

_Waiting = tuple[PlannedJob, "asyncio.Future[pg_jobs.Inserted]"]


class Creations:
    def __init__(self, pool: Pool, max_group: int = 100, in_flight: int = 2) -> None:
        self._pool = pool
        self._max_group = max_group
        self._in_flight = in_flight  # statements at once (each writer writes one at a time)
        self._waiting: list[_Waiting] = []
        self._writing = 0  # writers running; one that found nothing left has left already
        self._writers: set[asyncio.Task[None]] = set()  # their tasks, kept referenced

    async def insert(self, planned: PlannedJob) -> pg_jobs.Inserted:
        """As `jobs.insert` would answer for this job alone."""
        done: asyncio.Future[pg_jobs.Inserted] = asyncio.get_running_loop().create_future()
        self._waiting.append((planned, done))
        if self._writing < self._in_flight:
            self._writing += 1
            writer = asyncio.create_task(self._write())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self._max_group]
                del self._waiting[: self._max_group]
                try:
                    await self._write_group(group)
                except asyncio.CancelledError:  # the ledger stopping: nobody waits in vain
                    for _, done in group:
                        _settle(done, ConnectionError("the ledger stopped"))
                    raise
        finally:
            # No await between finding the queue empty and this: a creation queued
            # after it sees the slot free and starts a writer.
            self._writing -= 1

    async def _write_group(self, group: list[_Waiting]) -> None:
        group = [(p, done) for p, done in group if not done.done()]  # not given up on
        CREATION_GROUP.observe(len(group))
        written = await self._write_together([p for p, _ in group])
        for (planned, done), inserted in zip(group, written, strict=True):
            if inserted is not None:
                _settle(done, inserted)
            else:  # a repeat, a job there already, or a group refused: answered alone
                try:
                    _settle(done, await pg_jobs.insert(self._pool, planned))
                except Exception as exc:
                    _settle(done, exc)

    async def _write_together(
        self, group: list[PlannedJob]
    ) -> list[pg_jobs.Inserted | BaseException | None]:
        """One statement for the first of each id and idempotency key, in id order (two
        groups in flight then meet on shared keys in one order); None where a job is
        left to `jobs.insert`, which answers a repeat as the single path does."""
        out: list[pg_jobs.Inserted | BaseException | None] = [None] * len(group)
        seen: set[object] = set()
        first: list[int] = []
        for i, p in enumerate(group):
            keys = {p.new.id} | (
                {(p.new.owner, p.new.idempotency_key)} if p.new.idempotency_key else set()
            )
            if not keys & seen:
                first.append(i)
            seen |= keys
        first.sort(key=lambda i: group[i].new.id)
        if not first:
            return out
        try:
            written = await job_groups.insert_many(self._pool, [group[i] for i in first])
        except Exception as exc:
            if pg_errors.unavailable(exc) and not pg_errors.contended(exc):
                return [exc] * len(group)  # the database is away: every submitter retries
            return out  # refused, or a deadlock between groups: each alone
        for i, inserted in zip(first, written, strict=True):
            out[i] = inserted
        return out


def _settle(done: asyncio.Future[pg_jobs.Inserted], outcome: object) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):  # its submitter gave up waiting
        if isinstance(outcome, BaseException):
            done.set_exception(outcome)
        else:
            assert isinstance(outcome, pg_jobs.Inserted)
            done.set_result(outcome)
