"""The commands on jobs that exist: jobs (a table), job (details and the event
timeline), cancel, and download (the output files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts import FileRecord, JobEvent, JobRecord, JobStatus, JobType

from ..client import AsyncClient
from ..errors import JetscribeError
from .outputs import OutputNamer, download_name, folder
from .runtime import FAILED, OK, Session, Ui
from .tracking import all_children
from .views import job_lines, jobs_table, timeline_table


async def list_jobs(
    ui: Ui,
    session: Session,
    status: JobStatus | None,
    type: JobType | None,
    limit: int,
    parent_id: str | None = None,
) -> int:
    async with session.connection.client() as client:
        page = await client.jobs(status=status, type=type, parent_id=parent_id, limit=limit)
    ui.emit(page.model_dump(mode="json"))
    if not ui.json:
        if page.items:
            ui.out.print(jobs_table(page.items))
        else:
            ui.say("no jobs")
        if page.next_cursor:
            ui.say(f"(more: --limit {min(500, limit * 2)})", "dim")
    return OK


async def _file(client: AsyncClient, file_id: object) -> FileRecord | None:
    """The file's record, or None when it is gone (retention) or unnamed."""
    if file_id is None:
        return None
    try:
        return await client.get_file(str(file_id))
    except JetscribeError:
        return None


async def show_job(ui: Ui, session: Session, job_id: str) -> int:
    async with session.connection.client() as client:
        job = await client.get(job_id)
        source = await _file(client, job.file_id)
        children = await all_children(client, str(job.id)) if str(job.type) == "batch" else []
        events: list[JobEvent] = []
        history_error: JetscribeError | None = None
        try:
            events = [e async for e in client.follow(job_id, live=False)]
        except JetscribeError as exc:
            history_error = exc
    ui.emit(
        {
            "job": job.model_dump(mode="json"),
            "input": source.filename if source else None,
            "events": [e.model_dump(mode="json") for e in events],
            "children": [c.model_dump(mode="json") for c in children],
        }
    )
    if not ui.json:
        for line in job_lines(job, source):
            ui.out.print(line, soft_wrap=True)
        if children:
            ui.say("")
            ui.out.print(jobs_table(children))
        ui.say("")
        if events:
            ui.out.print(timeline_table(events))
        else:
            ui.say("no events stored")
    if history_error is not None:
        ui.warn(f"events not read: {history_error.code}: {history_error.message}")
    return OK


async def cancel_job(ui: Ui, session: Session, job_id: str) -> int:
    async with session.connection.client() as client:
        job = await client.cancel(job_id)
    ui.emit({"ok": job.status is JobStatus.CANCELLED, "job": job.model_dump(mode="json")})
    if job.status is JobStatus.CANCELLED:
        under = " and the jobs under it" if str(job.type) == "batch" or job.steps else ""
        ui.say(f"{job.id}: cancelled{under}", "yellow")
        return OK
    ui.warn(f"{job.id}: {job.status.value} (not cancelled)")
    return FAILED


async def download_job(ui: Ui, session: Session, job_id: str, out: Path) -> int:
    """The output files of a completed job (of each job of a batch), named after the
    input they came from."""
    async with session.connection.client() as client:
        job = await client.get(job_id)
        jobs = await all_children(client, str(job.id)) if str(job.type) == "batch" else [job]
        namer = OutputNamer(folder(out))
        written: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for item in jobs:
            if item.status is not JobStatus.COMPLETED or not item.output_file_ids:
                skipped.append(_skip(ui, item))
                continue
            source = await _file(client, item.file_id)
            for file_id in item.output_file_ids:
                stored = await client.get_file(file_id)
                stem, suffix = download_name(source.filename if source else None, stored.filename)
                path = await client.download(file_id, namer.name(stem, suffix))
                ui.say(f"{source.filename if source else item.id}: {path}", "green")
                written.append({"job_id": str(item.id), "file_id": str(file_id), "path": str(path)})
    ok = bool(written) and not skipped
    ui.emit({"ok": ok, "job_id": str(job.id), "files": written, "skipped": skipped})
    return OK if ok else FAILED


def _skip(ui: Ui, job: JobRecord) -> dict[str, Any]:
    if job.status is not JobStatus.COMPLETED:
        error = f" — {job.error.code}: {job.error.message}" if job.error else ""
        why = f"{job.status.value}{error}"
    else:
        why = "completed without output files"
    ui.warn(f"{job.id}: nothing to download: {why}")
    return {
        "job_id": str(job.id),
        "status": job.status.value,
        "error": job.error.model_dump(mode="json") if job.error else None,
    }
