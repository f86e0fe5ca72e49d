"""API keys and tenants: `Authorization: Bearer <key>` → the tenant that owns the key.

Keys are configured as SHA-256 hashes (`API_KEYS="tenant:hexdigest,..."` or a file of
such lines, e.g. a mounted Secret), never in clear text. Every job and file belongs to
its tenant; another tenant's id answers 404 (the ledger filters by owner). A per-tenant
token bucket caps the request rate of this replica.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from contracts import ErrorCode
from services.common.logging import get_logger

from .errors import ApiError
from .settings import GatewaySettings

log = get_logger(__name__)

OPEN_TENANT = "default"  # everything belongs to it when authentication is disabled


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "js_" + secrets.token_urlsafe(32)


def parse_keys(entries: list[str]) -> dict[str, str]:
    """`tenant:sha256hex` entries → {hash: tenant}; raises ValueError naming a bad one."""
    keys: dict[str, str] = {}
    for raw in entries:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        tenant, sep, digest = entry.partition(":")
        digest = digest.strip().lower()
        if not sep or not tenant.strip() or len(digest) != 64:
            raise ValueError(f"API key entry {entry[:24]!r}…: expected tenant:<sha256 hex>")
        try:
            bytes.fromhex(digest)
        except ValueError as exc:
            raise ValueError(f"API key of tenant {tenant!r}: not a hex SHA-256") from exc
        keys[digest] = tenant.strip()
    return keys


def load_keys(inline: list[str], file: Path | None) -> dict[str, str]:
    entries = list(inline)
    if file is not None:
        entries += file.read_text().splitlines()
    return parse_keys(entries)


@dataclass
class RateLimiter:
    """Token bucket per tenant: `rate` requests a second, bursts up to `burst`."""

    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, tenant: str, now: float | None = None) -> float:
        """0 if the request may go on, else the seconds to wait before the next one."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(tenant, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[tenant] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[tenant] = (tokens - 1.0, now)
        return 0.0


@dataclass
class Authenticator:
    keys: dict[str, str]  # sha256 hex → tenant
    disabled: bool
    limiter: RateLimiter

    def tenant(self, authorization: str | None) -> str:
        tenant = OPEN_TENANT if self.disabled else self._tenant_of(authorization)
        wait = self.limiter.allow(tenant)
        if wait > 0:
            raise ApiError(
                429,
                ErrorCode.RATE_LIMITED,
                f"too many requests; retry in {wait:.2f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        return tenant

    def _tenant_of(self, authorization: str | None) -> str:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(
                401,
                ErrorCode.UNAUTHORIZED,
                "an API key is required: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        digest = hash_key(key.strip())
        for known, tenant in self.keys.items():  # constant time per comparison
            if hmac.compare_digest(known, digest):
                return tenant
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "unknown API key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


def authenticator(settings: GatewaySettings) -> Authenticator:
    """Refuses to start with no key unless open mode is asked for explicitly."""
    keys = load_keys(settings.api_keys, settings.api_keys_file)
    if not keys and not settings.auth_disabled:
        raise SystemExit(
            "no API keys configured: set API_KEYS (tenant:<sha256 of the key>, see "
            "`jetscribe-keys new <tenant>`) or API_KEYS_FILE, or AUTH_DISABLED=true for an "
            "open development gateway"
        )
    if settings.auth_disabled:
        log.warning("authentication is disabled (AUTH_DISABLED=true): anyone can use this API")
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    return Authenticator(keys, settings.auth_disabled, limiter)
