"""Event ingestion as a plan: what a batch of new events does to the ledger. Pure.

`plan(FoldInput, events)` takes the stored jobs the events touch (with the jobs they
move: pipeline roots, batch parents and those parents' children) and returns a
`FoldPlan`: new job states, events the ledger adds (see mirror.py), pipeline steps to
create, output files to register, webhook deliveries. The PostgreSQL adapter applies
the plan in the same transaction that read the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from contracts import JobCompleted, JobEvent, JobStatus, OutputFile

from . import batches, mirror, pipelines, webhooks
from .builders import PlannedJob, pending, step_settings
from .fold import JobState, fold
from .records import ChildRow, JobRow, NewJob


@dataclass(frozen=True)
class FoldInput:
    rows: dict[UUID, JobRow]  # the jobs the events touch, and the jobs those move
    children: list[ChildRow] = field(default_factory=list)  # of the batch parents in rows


@dataclass
class FoldPlan:
    states: dict[UUID, JobState] = field(default_factory=dict)  # changed jobs only
    events: list[JobEvent] = field(default_factory=list)  # made here: stored as well
    publish: list[JobEvent] = field(default_factory=list)  # through the outbox
    steps: list[PlannedJob] = field(default_factory=list)  # pipeline steps to create
    files: list[tuple[OutputFile, str, UUID]] = field(default_factory=list)  # file, owner, job
    durations: list[tuple[UUID, float]] = field(default_factory=list)  # input file, seconds
    webhooks: list[tuple[UUID, str, bytes]] = field(default_factory=list)  # job, url, body
    finished: list[tuple[str, str]] = field(default_factory=list)  # type, status


def plan(inp: FoldInput, events: list[JobEvent], *, own: bool, now: datetime) -> FoldPlan:
    """`own`: the events are the ledger's own (cancel, cache hits, expiry): published too."""
    fold_ = _Fold(inp)
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.job_id in inp.rows:  # an event for a job this ledger never created: kept
            fold_.apply(event)
    fold_.follow_batches(now)
    out = fold_.plan
    out.events = [e for job_id in sorted(fold_.derived) for e in fold_.mirrored(job_id)]
    out.publish = [*events, *out.events] if own else list(out.events)
    out.states = fold_.changed
    fold_.finish()
    return out


class _Fold:
    def __init__(self, inp: FoldInput) -> None:
        self.rows = inp.rows
        self.children = inp.children
        self.original = {job_id: row.state for job_id, row in inp.rows.items()}
        self.states = dict(self.original)  # as events move them
        self.changed: dict[UUID, JobState] = {}
        self.derived: set[UUID] = set()  # moved by another job's event
        self.plan = FoldPlan()

    def put(self, job_id: UUID, state: JobState) -> None:
        self.states[job_id] = state
        self.changed[job_id] = state

    def apply(self, event: JobEvent) -> None:
        row = self.rows[event.job_id]
        before = self.states[event.job_id]
        after = fold(before, event)
        spawn: pipelines.NextStep | None = None
        if isinstance(event, JobCompleted) and row.pipeline and after.status is JobStatus.COMPLETED:
            # A step with steps after it: start the next instead of ending the chain.
            spawn = self._next_step(row, event)
            if spawn is not None and before.steps and before.steps[0]["status"] == "completed":
                spawn, after = None, before  # a repeated completion of step 0
            elif spawn is not None and row.id == row.pipeline_root:
                after = replace(
                    after,
                    status=JobStatus.PROCESSING,
                    finished_at=None,
                    ttl_deadline=None,
                    result=None,
                )
        if after == before:
            return
        if row.pipeline_root == row.id and before.steps and not after.terminal:
            # The root runs step 0 itself: its progress is the chain's.
            after = replace(after, progress=min(after.progress, 1.0) / len(before.steps))
        self.put(event.job_id, after)
        if isinstance(event, JobCompleted) and before.status is not JobStatus.COMPLETED:
            self._register_outputs(row, event)
        self._follow_pipeline(row, after, event, spawn)
        root_id = row.pipeline_root
        if root_id is not None and root_id != row.id and root_id in self.states:
            self.derived.add(root_id)
        if spawn is not None and isinstance(event, JobCompleted):
            self.plan.steps.append(_step_job(row, spawn))

    def _next_step(self, row: JobRow, event: JobCompleted) -> pipelines.NextStep | None:
        root_id = row.pipeline_root
        root = self.states.get(root_id) if root_id is not None else None
        if root_id is None or root is None or (root_id != row.id and root.terminal):
            return None  # the chain was cancelled or failed meanwhile: nothing more runs
        return pipelines.next_step(root_id, row.pipeline_index or 0, row.pipeline or [], event)

    def _register_outputs(self, row: JobRow, event: JobCompleted) -> None:
        self.plan.files += [(out, row.owner, event.job_id) for out in event.outputs]
        duration = getattr(event.result, "duration_s", None)
        if row.file_id is not None and duration is not None:
            # The input's duration is known once a worker has decoded it.
            self.plan.durations.append((row.file_id, duration))

    def _follow_pipeline(
        self, row: JobRow, after: JobState, event: JobEvent, spawn: pipelines.NextStep | None
    ) -> None:
        """Mirror a step's move on the chain's root job (state and `steps`)."""
        root_id = row.pipeline_root
        if root_id is None or root_id not in self.states:
            return
        root = self.states[root_id]
        if not root.steps:
            return
        index = row.pipeline_index or 0
        status = JobStatus.COMPLETED.value if spawn is not None else after.status.value
        steps = pipelines.mark_step(root.steps, index, status, row.id)
        if spawn is not None:
            steps = pipelines.mark_step(steps, spawn.index, JobStatus.PENDING.value, spawn.job_id)
        if root_id == row.id:
            if after.terminal and after.status is not JobStatus.COMPLETED:
                steps = pipelines.mark_step(steps, index, status)
            self.put(root_id, replace(self.states[root_id], steps=steps))
            return
        new_root = pipelines.root_after_step(root, steps, index, after, event, event.occurred_at)
        self.put(root_id, replace(new_root, steps=steps))

    def follow_batches(self, now: datetime) -> None:
        """Recount the children of every batch whose child moved."""
        parents = {
            parent_id
            for job_id in self.changed
            if (parent_id := self.rows[job_id].parent_id) is not None and parent_id in self.states
        }
        children: dict[UUID, dict[UUID, batches.Child]] = {p: {} for p in parents}
        for child in self.children:
            if child.parent_id not in children:
                continue
            current = self.states.get(child.id)  # this fold's state wins over the stored one
            status, progress = (
                (current.status, current.progress) if current else (child.status, child.progress)
            )
            children[child.parent_id][child.id] = batches.Child(status, progress)
        for parent_id in sorted(parents):
            before = self.states[parent_id]
            count = len(self.rows[parent_id].file_ids or [])
            child_ids = [batches.child_id(parent_id, i) for i in range(count)]
            after = batches.aggregate(before, child_ids, children[parent_id], now)
            if after != before:
                self.put(parent_id, after)
                self.derived.add(parent_id)

    def mirrored(self, job_id: UUID) -> list[JobEvent]:
        correlation_id = self.rows[job_id].correlation_id
        return [
            e.model_copy(update={"correlation_id": correlation_id})
            for e in mirror.events_for(job_id, self.original[job_id], self.states[job_id])
        ]

    def finish(self) -> None:
        """Jobs that reached a terminal state: counted, and the webhooks they call for."""
        for job_id, after in self.changed.items():
            if self.original[job_id].terminal or not after.terminal:
                continue
            row = self.rows[job_id]
            self.plan.finished.append((row.type, after.status.value))
            if row.callback_url and after.status is not JobStatus.EXPIRED:
                error = (
                    {"code": after.error_code, "message": after.error_message or ""}
                    if after.error_code
                    else None
                )
                body = webhooks.payload(
                    job_id, after.status.value, row.type, error, after.finished_at
                )
                self.plan.webhooks.append((job_id, row.callback_url, body))


def _step_job(row: JobRow, step: pipelines.NextStep) -> PlannedJob:
    """The next step of a pipeline, on the file it reads (by default the primary output
    of the step that completed)."""
    new = NewJob(
        id=step.job_id,
        type=step.type,
        options=step.options,
        file_id=step.file.id,
        pipeline=step.remaining or None,
        pipeline_root=step.root_id,
        pipeline_index=step.index,
        **step_settings(row),
    )
    return pending(new, step.file, attachments=step.attachments)
