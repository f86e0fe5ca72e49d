"""Settings of the gateway."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1, description="Upload size cap.")
    ledger_timeout_s: float = Field(default=5.0, gt=0)
    max_wait_s: float = Field(default=300.0, gt=0, description="Upper bound for ?wait=.")
    s3_public_endpoint: str | None = Field(
        default=None, description="Endpoint clients use for presigned URLs (default: S3_ENDPOINT)."
    )
