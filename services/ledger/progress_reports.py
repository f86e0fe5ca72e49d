"""Progress-only jobs: the bulk of every batch, folded without the planner. Pure.

Most events are `progressed`. A job that is neither a batch child nor a pipeline job,
whose events in a batch are all progress reports of one attempt, moves by fold.py's
`JobProgressed` rule alone: nothing is mirrored, created or called back. `split` sums
each such job's reports up into one `ProgressReport`; the PostgreSQL adapter
(adapters/pg/progress.py) applies that same rule to the rows in one statement, and
hands back the jobs it did not take (batch children, pipeline jobs) for the planner.
A connected test checks the statement against `fold` on random histories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts import JobEvent, JobProgressed


@dataclass(frozen=True)
class ProgressReport:
    job_id: UUID
    attempt: int
    progress: float  # the highest of the job's reports in the batch
    first_at: datetime  # the earliest: `started_at` if the job has none yet


def split(events: list[JobEvent]) -> tuple[list[ProgressReport], list[JobEvent]]:
    """(one report per progress-only job, every other event)."""
    by_job: dict[UUID, list[JobEvent]] = {}
    for event in events:
        by_job.setdefault(event.job_id, []).append(event)
    reports: list[ProgressReport] = []
    rest: list[JobEvent] = []
    for job_id, mine in by_job.items():
        first = mine[0]
        if len(mine) == 1 and isinstance(first, JobProgressed):  # the usual case
            reports.append(ProgressReport(job_id, first.attempt, first.progress, first.occurred_at))
        elif all(isinstance(e, JobProgressed) and e.attempt == first.attempt for e in mine):
            progress = [e.progress for e in mine if isinstance(e, JobProgressed)]
            first_at = min(e.occurred_at for e in mine)
            reports.append(ProgressReport(job_id, first.attempt, max(progress), first_at))
        else:
            rest += mine
    return reports, rest
