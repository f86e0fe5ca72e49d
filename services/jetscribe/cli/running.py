"""The commands that wait for jobs: transcribe, convert and fix (upload, submit, follow,
write each result), and follow (an existing job, or a batch's jobs)."""

from __future__ import annotations

from pathlib import Path

from contracts import JobRecord, JobStatus

from ..client import AsyncClient
from ..errors import JetscribeError
from .outputs import OutputNamer, ResultError, folder
from .plans import Plan
from .results import write_output
from .runtime import FAILED, OK, Session, Ui
from .submitting import submit, upload_all
from .tracking import Tracked, children_of, follow_all, run_all
from .views import outcome, summary_json


def _report(ui: Ui, t: Tracked) -> None:
    if t.ok:
        ui.say(outcome(t), "green")
    else:
        ui.warn(outcome(t))


async def _settled_root(client: AsyncClient, root: JobRecord, tracked: list[Tracked]) -> JobRecord:
    if len(tracked) == 1 and tracked[0].job.id == root.id:
        return tracked[0].job
    try:
        return await client.wait(root.id, timeout=5)  # a batch ends just after its jobs
    except JetscribeError:
        return root


def _ending(ui: Ui, root: JobRecord, tracked: list[Tracked]) -> int:
    done = sum(t.ok for t in tracked)
    if len(tracked) > 1:
        line = f"{done} of {len(tracked)} jobs completed (batch {root.id})"
        if done == len(tracked):
            ui.say(line, "green")
        else:
            ui.warn(line)
    ui.emit(summary_json(root, tracked))
    return OK if done == len(tracked) else FAILED


async def run_plan(
    ui: Ui, session: Session, plan: Plan, paths: list[Path], out: Path, wait: bool = True
) -> int:
    """Upload `paths`, submit them, follow every job and write each result to `out`."""
    async with session.connection.client() as client:
        display = ui.display
        uploads = await upload_all(client, paths, display)
        root, tracked = await submit(client, plan, list(zip(paths, uploads, strict=True)), session)
        if len(tracked) > 1:
            display.line(f"batch {root.id}: {len(tracked)} jobs ({plan.type})")
        for t in tracked:
            display.line(f"{t.label}: job {t.job.id}")
        if not wait:
            ui.say(f"submitted; follow it: jetscribe follow {root.id}")
            ui.emit({**summary_json(root, tracked), "ok": True})
            return OK
        namer = OutputNamer(out, paths)
        for t in tracked:
            assert t.source is not None
            t.output = namer.name(t.source.stem, plan.suffix)
        folder(out)

        async def finished(t: Tracked) -> None:
            if t.job.status is JobStatus.COMPLETED and t.error is None:
                try:
                    await write_output(client, t, plan)
                except (JetscribeError, ResultError, OSError) as exc:
                    code = getattr(exc, "code", "not_written")
                    t.failed(code, f"{t.output}: {getattr(exc, 'message', exc)}")
            _report(ui, t)

        await follow_all(client, tracked, display, finished)
        return _ending(ui, await _settled_root(client, root, tracked), tracked)


async def _label(client: AsyncClient, job: JobRecord) -> str:
    if job.file_id is None:
        return str(job.id)
    try:
        return (await client.get_file(job.file_id)).filename
    except JetscribeError:
        return str(job.id)


async def follow_job(ui: Ui, session: Session, job_id: str) -> int:
    """Follow a job live (a batch: each of its jobs) until it ends."""
    async with session.connection.client() as client:
        root = await client.get(job_id)
        session.roots.append(root)
        jobs = await children_of(client, root) if str(root.type) == "batch" else [root]
        labels = await run_all(_label(client, j) for j in jobs)
        tracked = [Tracked(label, job) for label, job in zip(labels, jobs, strict=True)]

        async def finished(t: Tracked) -> None:
            _report(ui, t)

        await follow_all(client, tracked, ui.display, finished)
        return _ending(ui, await _settled_root(client, root, tracked), tracked)
