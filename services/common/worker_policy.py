"""How the job loop treats attempts, heartbeats and progress: built from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import WorkerSettings


@dataclass
class WorkerPolicy:
    max_deliver: int = 5
    heartbeat_s: float = 10.0
    progress_min_interval_s: float = 0.25
    backoff_s: tuple[float, ...] = (2.0, 10.0, 30.0, 60.0)
    # How long an outcome whose publish is unconfirmed is repeated (a NATS outage)
    # before the job is handed back.
    outcome_publish_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> WorkerPolicy:
        return cls(
            max_deliver=settings.max_deliver,
            heartbeat_s=settings.heartbeat_s,
            progress_min_interval_s=settings.progress_min_interval_s,
            backoff_s=settings.retry_backoff_s,
        )

    def backoff(self, attempt: int) -> float:
        """The delay before the attempt after `attempt` (the last delay repeats)."""
        return self.backoff_s[min(attempt - 1, len(self.backoff_s) - 1)]
