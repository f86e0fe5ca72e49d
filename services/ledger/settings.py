"""Settings of the job-ledger (env vars, no prefix for the shared ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from services.common.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432/jetscribe"),
        description="PostgreSQL DSN (asyncpg).",
    )
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=20, ge=1)
    request_concurrency: int = Field(default=64, ge=1, description="Requests handled at once.")
    outbox_sweep_s: float = Field(default=5.0, gt=0)
    submit_max_deliver: int = Field(default=5, ge=1)
    events_batch_size: int = Field(
        default=500, ge=1, le=1000, description="Events folded per transaction at most."
    )
    health_port: int = 8081
