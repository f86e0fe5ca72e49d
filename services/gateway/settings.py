"""Settings of the gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from services.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1, description="Upload size cap.")
    ledger_timeout_s: float = Field(default=5.0, gt=0)
    max_wait_s: float = Field(default=300.0, gt=0, description="Upper bound for ?wait=.")
    result_inline_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="A job's result stored by reference (too large for a message) is "
        "returned whole up to this size; above it, its summary and a download link.",
    )
    whisper_model: str = Field(
        default="base",
        description="The Whisper model the transcribers run (the same WHISPER_MODEL): the "
        "OpenAI-compatible endpoints accept its name (or a directory's last part) and "
        "whisper-1.",
    )
    openai_max_wait_s: float = Field(
        default=580.0,
        gt=0,
        description="How long /v1/audio/* waits for its job before answering 504 (the job "
        "goes on; its id is in X-Jetscribe-Job-Id). Under the OpenAI SDK's 600 s timeout.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="tenant:<sha256 hex of the key> entries, comma-separated.",
    )
    api_keys_file: Path | None = Field(
        default=None, description="A file of tenant:<sha256 hex> lines (e.g. a mounted Secret)."
    )
    auth_disabled: bool = Field(
        default=False, description="Open mode: no key needed, everything is tenant 'default'."
    )
    operator_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Tenants that may read operator views (dead letters), comma-separated; "
        "in open mode (AUTH_DISABLED) everyone may.",
    )
    rate_limit_per_s: float = Field(
        default=50.0, ge=0, description="Requests a second per tenant and replica (0: off)."
    )
    rate_limit_burst: float = Field(default=100.0, ge=1)
    s3_public_endpoint: str | None = Field(
        default=None, description="Endpoint clients use for presigned URLs (default: S3_ENDPOINT)."
    )

    @property
    def openai_models(self) -> frozenset[str]:
        """The model names /v1/audio/* accepts; all run on the deployed model."""
        return frozenset({"whisper-1", self.whisper_model, Path(self.whisper_model).name})

    @field_validator("api_keys", "operator_tenants", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
