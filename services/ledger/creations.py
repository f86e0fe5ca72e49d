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
        CREATION_GROUP.observe(len(group))
        try:
            written = await job_groups.insert_many(self._pool, [p for p, _ in group])
        except Exception as exc:
            if pg_errors.unavailable(exc) or len(group) == 1:
                for _, done in group:
                    _settle(done, exc)
                return
            written = [None] * len(group)  # refused: each alone, so only the bad one fails
        for (planned, done), inserted in zip(group, written, strict=True):
            if inserted is not None:
                _settle(done, inserted)
                continue
            try:
                _settle(done, await pg_jobs.insert(self._pool, planned))
            except Exception as exc:
                _settle(done, exc)


def _settle(done: asyncio.Future[pg_jobs.Inserted], outcome: object) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):  # its submitter gave up waiting
        if isinstance(outcome, BaseException):
            done.set_exception(outcome)
        else:
            assert isinstance(outcome, pg_jobs.Inserted)
            done.set_result(outcome)
