"""Following many jobs at once over SSE, each with its bar, until each is terminal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from contracts import ErrorInfo, JobRecord, JobStatus

from ..client import AsyncClient
from ..errors import JetscribeError
from .progress import BarState, Display, JobBar, JobBoard

T = TypeVar("T")
CHILDREN_TIMEOUT_S = 30.0  # a batch's children are listed within this


@dataclass
class Tracked:
    """One job the command waits for, and what became of it."""

    label: str  # how the user knows it: the input as named, else the file's name
    job: JobRecord  # as submitted, then as it ended
    source: Path | None = None  # the local input file
    output: Path | None = None  # where its result goes (or went)
    error: ErrorInfo | None = None  # why it did not complete, or its result was not written

    @property
    def ok(self) -> bool:
        return self.job.status is JobStatus.COMPLETED and self.error is None

    def failed(self, code: str, message: str) -> None:
        self.error = ErrorInfo(code=code, message=message)


Finished = Callable[[Tracked], Awaitable[None]]


async def run_all(coroutines: Iterable[Awaitable[T]]) -> list[T]:
    """Await all at once; the first error cancels the rest (so does a Ctrl-C)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # each one's end (or error) seen, none left behind


def bar_state(job: JobRecord) -> BarState:
    steps = job.steps or []
    last = str(steps[-1].type.value) if steps else str(job.type)
    return BarState(steps=max(1, len(steps)), last_type=last, state=job.status.value)


async def follow_all(
    client: AsyncClient, tracked: list[Tracked], display: Display, finished: Finished
) -> None:
    """Follow every job live; `finished(t)` runs as each one ends (writes, reports)."""
    with JobBoard(display) as board:
        bars = [board.add(t.label, bar_state(t.job)) for t in tracked]
        await run_all(
            _follow(client, t, bar, finished) for t, bar in zip(tracked, bars, strict=True)
        )


async def _follow(client: AsyncClient, t: Tracked, bar: JobBar, finished: Finished) -> None:
    try:
        try:
            async for event in client.follow(t.job.id):
                bar.apply(event)
        except JetscribeError as exc:
            if exc.code != "stream_lost":
                raise
            # The stream kept dropping: the job's state, waited for, still tells.
        job = await client.get(t.job.id)
        if not job.status.is_terminal:
            job = await client.wait(t.job.id)
    except JetscribeError as exc:
        t.failed(exc.code, exc.message)
        bar.fail(f"{exc.code}: {exc.message}")
        await finished(t)
        return
    t.job = job
    if job.error is not None and job.status is not JobStatus.COMPLETED:
        t.error = job.error
    bar.settle(job)
    await finished(t)


async def all_children(client: AsyncClient, parent_id: str) -> list[JobRecord]:
    """Every job of a batch, however many pages."""
    items: list[JobRecord] = []
    cursor: str | None = None
    while True:
        page = await client.jobs(parent_id=parent_id, limit=500, cursor=cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if not cursor or not page.items:
            return items


async def children_of(
    client: AsyncClient, batch: JobRecord, timeout: float = CHILDREN_TIMEOUT_S
) -> list[JobRecord]:
    """A batch's jobs, in the order of its files, once all of them are listed."""
    expected = len(batch.file_ids or [])
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        children = await all_children(client, str(batch.id))
        if len(children) >= expected:
            break
        if time.monotonic() > deadline:
            raise JetscribeError(
                "batch_incomplete",
                f"batch {batch.id}: {len(children)} of {expected} jobs listed after "
                f"{timeout:.0f} s (jetscribe follow {batch.id})",
            )
        await asyncio.sleep(delay)
        delay = min(1.0, delay * 2)
    order = {file_id: i for i, file_id in enumerate(batch.file_ids or [])}
    return sorted(children, key=lambda c: order.get(c.file_id, len(order)) if c.file_id else 0)


def pair(children: list[JobRecord], files: list[tuple[Path, str]]) -> list[Tracked]:
    """Each input (path, uploaded file id) with the batch job that runs on it."""
    waiting: dict[str, list[JobRecord]] = {}
    for child in children:
        waiting.setdefault(str(child.file_id), []).append(child)
    tracked = []
    for path, file_id in files:
        jobs = waiting.get(file_id) or []
        if not jobs:
            raise JetscribeError("batch_incomplete", f"{path}: no job of the batch runs on it")
        tracked.append(Tracked(str(path), jobs.pop(0), source=path))
    return tracked
