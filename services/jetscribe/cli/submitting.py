"""Uploading the inputs (a byte bar each) and submitting them: one job for one file,
one batch for several (its jobs listed once they all exist)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from contracts import FileRecord, JobRecord

from ..client import AsyncClient
from .inputs import size_of
from .plans import Plan
from .progress import Display, UploadBars
from .runtime import Session
from .tracking import Tracked, children_of, pair, run_all

UPLOADS_AT_ONCE = 4


async def upload_all(client: AsyncClient, paths: list[Path], display: Display) -> list[FileRecord]:
    gate = asyncio.Semaphore(UPLOADS_AT_ONCE)
    with UploadBars(display) as bars:

        async def upload(path: Path) -> FileRecord:
            async with gate:
                bar = bars.start(str(path), size_of(path))
                record = await client.upload(path, on_progress=bar.sent)
                bar.done()
                return record

        return await run_all(upload(p) for p in paths)


async def submit(
    client: AsyncClient, plan: Plan, files: list[tuple[Path, FileRecord]], session: Session
) -> tuple[JobRecord, list[Tracked]]:
    """The top-level job (the batch, for several files) and the job of each file. The
    top-level job is in `session` as soon as it exists (Ctrl-C tells or cancels it)."""
    if len(files) == 1:
        path, record = files[0]
        job = await client.submit(plan.type, record.id, options=plan.options, then=plan.then)
        session.roots.append(job)
        return job, [Tracked(str(path), job, source=path)]
    batch = await client.submit_batch(
        plan.type, [record.id for _, record in files], options=plan.options, then=plan.then
    )
    session.roots.append(batch)
    children = await children_of(client, batch)
    return batch, pair(children, [(path, str(record.id)) for path, record in files])
