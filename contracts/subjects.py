"""Subject names: one place for every subject on the wire (variable tokens last)."""

from __future__ import annotations

from uuid import UUID

from .enums import JobType

JOBS_SUBMIT = "jobs.submit"
JOBS_RUN_PREFIX = "jobs.run"
JOBS_RUN_ALL = "jobs.run.>"
JOBS_EVENTS_PREFIX = "jobs.events"
JOBS_EVENTS_ALL = "jobs.events.>"
JOBS_DEAD_PREFIX = "jobs.dead"
JOBS_DEAD_ALL = "jobs.dead.>"

LEDGER_JOBS_CREATE = "ledger.jobs.create"
LEDGER_JOBS_GET = "ledger.jobs.get"
LEDGER_JOBS_LIST = "ledger.jobs.list"
LEDGER_JOBS_CANCEL = "ledger.jobs.cancel"
LEDGER_JOBS_WEBHOOKS = "ledger.jobs.webhooks"
LEDGER_FILES_REGISTER = "ledger.files.register"
LEDGER_FILES_GET = "ledger.files.get"
LEDGER_FILES_DELETE = "ledger.files.delete"
LEDGER_DEAD_LETTERS_LIST = "ledger.deadletters.list"
LEDGER_QUEUE_STATS = "ledger.queue.stats"


def run_subject(job_type: JobType | str) -> str:
    return f"{JOBS_RUN_PREFIX}.{JobType(job_type).value}"


def events_subject(job_id: UUID | str) -> str:
    return f"{JOBS_EVENTS_PREFIX}.{job_id}"


def job_id_from_events_subject(subject: str) -> str:
    return subject.rsplit(".", 1)[-1]


def dead_letter_subject(consumer: str) -> str:
    return f"{JOBS_DEAD_PREFIX}.{consumer}"
