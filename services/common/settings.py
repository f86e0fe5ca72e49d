"""Settings every service shares (NATS, S3, logging). Each service extends this."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from .worker import WorkerPolicy


class NatsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server URL(s).")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_token: SecretStr | None = None
    nats_creds_file: str | None = Field(default=None, description="A .creds file (JWT + NKey).")
    nats_nkey_seed_file: str | None = Field(default=None, description="An NKey seed file.")
    nats_tls_ca_file: str | None = Field(default=None, description="CA bundle: enables TLS.")
    nats_tls_cert_file: str | None = Field(default=None, description="Client cert (mutual TLS).")
    nats_tls_key_file: str | None = None
    stream_replicas: int = Field(default=1, ge=1, le=5)
    events_max_age_hours: float = Field(default=168.0, gt=0)

    def connect_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"servers": self.nats_url.split(",")}
        if self.nats_user:
            kwargs["user"] = self.nats_user
        if self.nats_password:
            kwargs["password"] = self.nats_password.get_secret_value()
        if self.nats_token:
            kwargs["token"] = self.nats_token.get_secret_value()
        if self.nats_creds_file:
            kwargs["user_credentials"] = self.nats_creds_file
        if self.nats_nkey_seed_file:
            kwargs["nkeys_seed"] = self.nats_nkey_seed_file
        if self.nats_tls_ca_file or self.nats_tls_cert_file:
            kwargs["tls"] = self.tls_context()
        return kwargs

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.nats_tls_ca_file)
        if self.nats_tls_cert_file:
            context.load_cert_chain(self.nats_tls_cert_file, self.nats_tls_key_file)
        return context


class S3Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    s3_endpoint: str = Field(
        default="http://127.0.0.1:9000", description="S3/MinIO endpoint URL (http or https)."
    )
    s3_access_key: str = "jetscribe"
    s3_secret_key: SecretStr = SecretStr("jetscribe-dev-secret")
    s3_bucket: str = "jetscribe"
    s3_region: str = "us-east-1"
    presign_expiry_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)


class ServiceSettings(NatsSettings, S3Settings):
    """Base for every service: NATS + S3 + logging + the health/metrics port."""

    log_level: str = "INFO"
    log_json: bool | None = Field(
        default=None, description="JSON logs; default: JSON unless stdout is a TTY."
    )
    health_host: str = "0.0.0.0"
    health_port: int = Field(default=0, ge=0, le=65535, description="0 disables the port.")


class WorkerSettings(ServiceSettings):
    """What every worker pool shares: redelivery, heartbeats, attempts, shutdown."""

    ack_wait_s: float = Field(
        default=60.0, gt=1, description="A dead worker's job is redelivered after this."
    )
    heartbeat_s: float = Field(default=10.0, gt=0, description="in_progress while working.")
    max_deliver: int = Field(default=5, ge=1, description="Attempts before retries_exhausted.")
    progress_min_interval_s: float = Field(default=0.25, ge=0)
    shutdown_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, time for the jobs in hand to finish before they are handed "
        "back to another replica.",
    )

    def policy(self) -> WorkerPolicy:
        from .worker import WorkerPolicy

        return WorkerPolicy(
            max_deliver=self.max_deliver,
            heartbeat_s=self.heartbeat_s,
            progress_min_interval_s=self.progress_min_interval_s,
        )
