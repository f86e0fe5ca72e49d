"""From the records to one row of the results table (the definitions are in report.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .records import TERMINAL_KINDS, Records, StreamEvent


@dataclass
class RowResult:
    row: str
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    run_twice: int = 0
    duplicate_outputs: int = 0
    events_js: int = 0
    events_pg: int = 0
    events_missing: int = 0
    first_completion_s: float | None = None
    all_terminal_s: float | None = None
    poison_left: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the scenario itself could not run
    log_dir: str | None = None  # the services' logs (kept after the run)

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.submitted > 0
            and self.lost == 0
            and self.run_twice == 0
            and self.duplicate_outputs == 0
            and self.events_missing == 0
            and self.failed == 0
            and not self.poison_left
        )


def ran_twice(events: list[StreamEvent]) -> bool:
    """More than one terminal event, or a run started after the job was terminal."""
    terminal = [e for e in events if e.kind in TERMINAL_KINDS]
    if len({e.event_id for e in terminal}) > 1:
        return True
    if not terminal:
        return False
    first = min(e.seq for e in terminal)
    return any(e.kind == "started" and e.seq > first for e in events)


def restarts(events: list[StreamEvent]) -> int:
    """Runs that started again without a `requeued` for them (after a crash, legitimately)."""
    requeued = {e.attempt for e in events if e.kind == "requeued"}
    started = sorted({e.attempt for e in events if e.kind == "started"})
    return sum(1 for a in started[1:] if a not in requeued)


def _by_job(records: Records, job_ids: set[str]) -> dict[str, list[StreamEvent]]:
    grouped: dict[str, list[StreamEvent]] = defaultdict(list)
    for event in records.events:
        if event.job_id in job_ids:
            grouped[event.job_id].append(event)
    return grouped


def _timings(result: RowResult, grouped: dict[str, list[StreamEvent]], fault_end: float) -> None:
    completions = [e.occurred_at for evs in grouped.values() for e in evs if e.kind == "completed"]
    after = [t for t in completions if t >= fault_end]
    if after:
        result.first_completion_s = round(min(after) - fault_end, 1)
    firsts = [
        min(e.occurred_at for e in evs if e.kind in TERMINAL_KINDS)
        for evs in grouped.values()
        if any(e.kind in TERMINAL_KINDS for e in evs)
    ]
    if firsts and result.lost == 0:
        result.all_terminal_s = round(max(0.0, max(firsts) - fault_end), 1)


def judge(row: str, records: Records, job_ids: list[str], fault_end: float) -> RowResult:
    ids = set(job_ids)
    result = RowResult(row=row, submitted=len(ids))
    status = Counter(records.pg_status.get(j, "missing") for j in ids)
    result.completed, result.failed = status["completed"], status["failed"]
    result.lost = sum(
        n for s, n in status.items() if s not in {"completed", "failed", "cancelled", "expired"}
    )
    grouped = _by_job(records, ids)
    result.run_twice = sum(1 for evs in grouped.values() if ran_twice(evs))
    for job in ids:
        produced = records.pg_output_keys.get(job, set()) | {
            k for e in grouped.get(job, []) for k in e.output_keys
        }
        result.duplicate_outputs += len(records.s3_keys.get(job, set()) - produced)
    js_ids = {e.event_id for evs in grouped.values() for e in evs}
    pg_ids = {e for e, j in records.pg_events.items() if j in ids}
    result.events_js, result.events_pg = len(js_ids), len(pg_ids)
    result.events_missing = len(js_ids - pg_ids)
    _timings(result, grouped, fault_end)
    _notes(result, grouped, status)
    return result


def _notes(result: RowResult, grouped: dict[str, list[StreamEvent]], status: Counter[str]) -> None:
    again = sum(restarts(evs) for evs in grouped.values())
    if again:
        result.notes.append(f"{again} run(s) restarted after a crash (no `requeued`)")
    codes = Counter(
        e.error_code for evs in grouped.values() for e in evs if e.kind == "failed" and e.error_code
    )
    if codes:
        result.notes.append("failed: " + ", ".join(f"{c}: {n}" for c, n in codes.items()))
    stuck = {s: n for s, n in status.items() if s not in {"completed", "failed"} and n}
    if stuck:
        result.notes.append("not terminal: " + ", ".join(f"{s}: {n}" for s, n in stuck.items()))
    twice = [j for j, evs in grouped.items() if ran_twice(evs)]
    if twice:
        kinds = Counter(e.kind for e in grouped[twice[0]])
        result.notes.append(
            f"e.g. job {twice[0][:8]}: " + ", ".join(f"{k}: {n}" for k, n in kinds.items())
        )
