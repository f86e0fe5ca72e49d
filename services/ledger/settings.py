"""Settings of the job-ledger (env vars, no prefix for the shared ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from services.common.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432/jetscribe"),
        description="PostgreSQL DSN (asyncpg).",
    )
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(
        default=20, ge=2, description="At least 2: the janitor holds one for its turn."
    )
    request_concurrency: int = Field(default=64, ge=1, description="Requests handled at once.")
    outbox_sweep_s: float = Field(default=5.0, gt=0)
    submit_max_deliver: int = Field(
        default=-1,
        ge=-1,
        description="Deliveries of a jobs.submit message before it is given up; -1 (the "
        "default): until it is stored — a submission waits out a database outage for as "
        "long as the JOBS stream keeps it (it has no age limit).",
    )

    @field_validator("submit_max_deliver")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("SUBMIT_MAX_DELIVER: -1 (until stored) or at least 1")
        return value

    events_batch_size: int = Field(
        default=500, ge=1, le=1000, description="Events folded per transaction at most."
    )
    janitor_interval_s: float = Field(
        default=60.0, gt=0, description="How often retention and stuck cache hits are checked."
    )
    upload_retention_hours: float = Field(
        default=24.0, gt=0, description="Uploads no job used are deleted after this."
    )
    retrieval_grace_s: float = Field(
        default=300.0,
        ge=0,
        description="delete_after_retrieval: time left to download after the first read.",
    )
    max_batch_files: int = Field(default=1000, ge=1)
    cache_min_life_s: float = Field(
        default=60.0, ge=0, description="A cached job expiring sooner than this is not reused."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of webhook signatures; unset: no webhooks."
    )
    webhook_allow_private: bool = Field(
        default=False, description="Allow callback URLs on private/loopback addresses."
    )
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_backoff_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles.")
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    health_port: int = 8081
