"""How jobs, their events and outcomes look: rich tables for people, dicts for --json."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.filesize import decimal
from rich.table import Table
from rich.text import Text

from contracts import FileRecord, JobEvent, JobRecord

from .tracking import Tracked

STATUS_STYLE = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "expired": "dim",
    "processing": "cyan",
    "pending": "",
}


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]


def percent(progress: float) -> str:
    return f"{progress * 100:.0f}%"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def result_detail(result: dict[str, Any] | None) -> str:
    """A few words on a result: what it is and how big."""
    if not result:
        return ""
    kind = result.get("type")
    parts: list[str] = []
    if kind == "batch":
        parts.append(
            f"{result.get('completed', 0)} of {result.get('total', 0)} completed, "
            f"{result.get('failed', 0)} failed, {result.get('cancelled', 0)} cancelled"
        )
    elif "cue_count" in result:
        parts.append(plural(int(result["cue_count"]), "cue"))
    elif "changed_cues" in result:
        changed = plural(int(result["changed_cues"]), "cue")
        parts.append(f"{changed} changed, {result.get('kept_cues', 0)} kept")
    elif isinstance(result.get("text"), str):
        parts.append(f"{len(result['text'])} characters")
    elif isinstance(result.get("summary"), str):
        parts.append(f"summary of {len(result['summary'].split())} words")
    elif "size" in result:
        parts.append(decimal(int(result["size"])))
    if result.get("language"):
        parts.append(str(result["language"]))
    if result.get("cached"):
        parts.append("cached")
    return ", ".join(parts)


def outcome(t: Tracked) -> str:
    """`talk.mp4: completed → out/talk.srt (12 cues)`, `talk.mp4: failed — code: message`."""
    status = t.job.status.value
    if t.ok:
        where = f" → {t.output}" if t.output is not None else ""
        detail = result_detail(t.job.result)
        return f"{t.label}: completed{where}" + (f" ({detail})" if detail else "")
    if t.error is not None:
        word = status if status in ("failed", "cancelled", "expired") else "failed"
        return f"{t.label}: {word} — {t.error.code}: {t.error.message}"
    return f"{t.label}: {status}"


def tracked_json(t: Tracked) -> dict[str, Any]:
    return {
        "input": t.label,
        "job_id": str(t.job.id),
        "file_id": str(t.job.file_id) if t.job.file_id else None,
        "status": t.job.status.value,
        "output": str(t.output) if t.output is not None and t.ok else None,
        "error": t.error.model_dump(mode="json") if t.error is not None else None,
    }


def summary_json(root: JobRecord, tracked: list[Tracked]) -> dict[str, Any]:
    return {
        "ok": all(t.ok for t in tracked),
        "job_id": str(root.id),
        "type": str(root.type),
        "status": root.status.value,
        "jobs": [tracked_json(t) for t in tracked],
    }


def jobs_table(jobs: list[JobRecord]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("ID", no_wrap=True, min_width=36)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("PROGRESS", justify="right", no_wrap=True)
    table.add_column("CREATED", no_wrap=True)
    table.add_column("DETAIL", overflow="fold")
    for job in jobs:
        status = job.status.value
        detail = f"{job.error.code}: {job.error.message}" if job.error else ""
        detail = detail or result_detail(job.result)
        table.add_row(
            str(job.id),
            str(job.type),
            Text(status, style=STATUS_STYLE.get(status, "")),
            percent(job.progress),
            when(job.created_at),
            Text(detail),
        )
    return table


def job_lines(job: JobRecord, source: FileRecord | None) -> list[Text]:
    """The job's fields, one a line."""
    rows: list[tuple[str, str]] = [
        ("id", str(job.id)),
        ("type", str(job.type)),
        ("status", job.status.value),
        ("progress", percent(job.progress)),
        ("attempt", str(job.attempt)),
    ]
    if job.file_id:
        name = f" ({source.filename})" if source else ""
        rows.append(("file", f"{job.file_id}{name}"))
    if job.file_ids:
        rows.append(("files", f"{len(job.file_ids)}"))
    if job.parent_id:
        rows.append(("batch", str(job.parent_id)))
    if job.options:
        rows.append(("options", json.dumps(job.options, separators=(", ", ": "))))
    for step in job.steps or []:
        rows.append(
            (f"step {step.index}", f"{step.type.value} {step.status.value} {step.job_id or ''}")
        )
    if job.error:
        rows.append(("error", f"{job.error.code}: {job.error.message}"))
    if job.result:
        rows.append(("result", result_detail(job.result) or str(job.result.get("type", ""))))
    for file_id in job.output_file_ids:
        rows.append(("output", str(file_id)))
    rows += [
        ("created", when(job.created_at)),
        ("started", when(job.started_at)),
        ("finished", when(job.finished_at)),
    ]
    width = max(len(key) for key, _ in rows) + 2
    return [Text.assemble((key.ljust(width), "bold"), value) for key, value in rows if value]


def event_detail(event: JobEvent) -> str:
    match event.kind:
        case "queued":
            return str(event.type.value)
        case "started":
            return f"by {event.worker}" if event.worker else ""
        case "progressed":
            return percent(event.progress) + (f" {event.message}" if event.message else "")
        case "requeued":
            return f"{event.error.code}: {event.error.message}"
        case "completed":
            return result_detail(event.result.model_dump(mode="json"))
        case "failed":
            return f"{event.error.code}: {event.error.message}"
        case "cancelled":
            return event.reason or ""
    return ""


def timeline_table(events: list[JobEvent]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold", title_justify="left")
    table.add_column("TIME", no_wrap=True)
    table.add_column("EVENT", no_wrap=True)
    table.add_column("ATTEMPT", justify="right", no_wrap=True)
    table.add_column("FROM", no_wrap=True)
    table.add_column("DETAIL", overflow="fold")
    for event in events:
        table.add_row(
            clock(event.occurred_at),
            event.kind,
            str(event.attempt),
            event.producer or "",
            Text(event_detail(event)),
        )
    return table
