"""Settings every service shares (NATS, S3, logging). Each service extends this.

Two start-up rules live here, so every service keeps them:

- a placeholder or default S3 secret is refused unless `JETSCRIBE_DEV_MODE=true` (what
  `make dev` and the test stacks set);
- a renamed variable (`renamed_env`) still works under its old name for one release,
  with a `DeprecationWarning` and a start-up log line naming the new one.
"""

from __future__ import annotations

import os
import ssl
import warnings
from collections.abc import Mapping
from typing import Any, Self

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_S3_SECRET = "jetscribe-dev-secret"
# Compared case-insensitively, after stripping blanks.
PLACEHOLDER_SECRETS = frozenset({DEV_S3_SECRET, "minioadmin", "change-me", "changeme", ""})
_RENAMED_FROM = "renamed_from"


def renamed_env(new: str, old: str, **field: Any) -> Any:
    """A `Field` read from the variable `new`, or from `old` (deprecated, for one release).

    `new` wins when both are set. The attribute keeps the old name (`old` lowercased),
    so code and keyword arguments stay as they were. `ServiceSettings` warns about an
    old name in use (see `deprecated_variables`).
    """
    return Field(
        validation_alias=AliasChoices(new.lower(), old.lower()),
        json_schema_extra={_RENAMED_FROM: old},
        **field,
    )


def deprecated_variables(
    settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None
) -> list[str]:
    """One notice per renamed variable that is set under its old name.

    pydantic-settings reads an `AliasChoices` field from the first choice present, but
    reports the value under the first choice whatever name it came from; so the old
    name is looked for here, in the environment, as pydantic-settings does (any case).
    """
    present = {key.lower() for key in (os.environ if environ is None else environ)}
    notices = []
    for info in settings_cls.model_fields.values():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or not isinstance(info.validation_alias, AliasChoices):
            continue
        old, new = str(extra.get(_RENAMED_FROM, "")), str(info.validation_alias.choices[0])
        if not old or old.lower() not in present:
            continue
        if new in present:
            notices.append(f"{old} is deprecated and ignored: {new.upper()} is set")
        else:
            notices.append(
                f"{old} is deprecated: use {new.upper()} (the old name goes next release)"
            )
    return notices


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
    s3_secret_key: SecretStr = SecretStr(DEV_S3_SECRET)
    s3_bucket: str = "jetscribe"
    s3_region: str = "us-east-1"
    presign_expiry_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)


class ServiceSettings(NatsSettings, S3Settings):
    """Base for every service: NATS + S3 + logging + the health/metrics port."""

    log_level: str = "INFO"
    log_json: bool | None = Field(
        default=None, description="JSON logs; default: JSON unless stdout is a TTY."
    )
    health_host: str = Field(
        default="127.0.0.1",
        description="Where /healthz, /readyz and /metrics listen (0.0.0.0 in a pod or container).",
    )
    health_port: int = Field(default=0, ge=0, le=65535, description="0 disables the port.")
    jetscribe_dev_mode: bool = Field(
        default=False,
        validate_default=True,  # the secret check below runs when it is unset too
        description="Development mode (`make dev`, the test stacks): allows the default "
        "and placeholder S3 secrets.",
    )
    _deprecations: list[str] = PrivateAttr(default_factory=list)

    # A field validator (the S3 fields come first), not a model one: a model validator's
    # error would print every input, the secrets among them.
    @field_validator("jetscribe_dev_mode")
    @classmethod
    def _refuse_placeholder_secret(cls, dev_mode: bool, info: ValidationInfo) -> bool:
        secret = info.data.get("s3_secret_key")
        placeholder = (
            isinstance(secret, SecretStr)
            and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        )
        if placeholder and not dev_mode:
            raise ValueError(
                "S3_SECRET_KEY is unset, the default or a well-known placeholder: set the "
                "real secret of the S3 server (or JETSCRIBE_DEV_MODE=true for local "
                "development only)"
            )
        return dev_mode

    @model_validator(mode="after")
    def _warn_deprecated_variables(self) -> Self:
        self._deprecations = deprecated_variables(type(self))
        for notice in self._deprecations:
            warnings.warn(notice, DeprecationWarning, stacklevel=2)
        return self

    @property
    def deprecations(self) -> list[str]:
        """Renamed variables set under their old names (logged at start-up)."""
        return list(self._deprecations)


class WorkerSettings(ServiceSettings):
    """What every worker pool shares: slots, redelivery, heartbeats, attempts, shutdown."""

    max_concurrent_jobs: int = Field(default=1, ge=1, description="Jobs a replica holds at once.")
    ack_wait_s: float = Field(
        default=60.0, gt=1, description="A dead worker's job is redelivered after this."
    )
    heartbeat_s: float = Field(default=10.0, gt=0, description="in_progress while working.")
    max_deliver: int = Field(default=5, ge=1, description="Attempts before retries_exhausted.")
    retry_backoff_s: tuple[float, ...] = Field(
        default=(2.0, 10.0, 30.0, 60.0),
        min_length=1,
        description="Delay before attempt n+1 (the last one repeats).",
    )
    progress_min_interval_s: float = Field(default=0.25, ge=0)
    result_message_max_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="A completed event larger than this (or than half the NATS server's "
        "max_payload) carries a summary of its result; the whole result goes to S3.",
    )
    shutdown_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, time for the jobs in hand to finish before they are handed "
        "back to another replica.",
    )

    @model_validator(mode="after")
    def _heartbeat_within_ack_wait(self) -> Self:
        # Two heartbeats may be lost (a busy loop, a NATS hiccup) before JetStream gives
        # the running job to another worker: at least three must fit in ack_wait.
        if self.heartbeat_s > self.ack_wait_s / 3:
            raise ValueError(
                f"HEARTBEAT_S ({self.heartbeat_s:g}) must be at most a third of ACK_WAIT_S "
                f"({self.ack_wait_s:g}), or a running job is redelivered and runs twice"
            )
        return self
