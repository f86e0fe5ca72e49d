"""API key parsing, tenant lookup and the per-tenant rate cap (pure)."""

from __future__ import annotations

import pytest

from services.gateway.auth import (
    Authenticator,
    RateLimiter,
    hash_key,
    new_key,
    parse_keys,
)
from services.gateway.errors import ApiError


def test_keys_are_configured_as_hashes_per_tenant() -> None:
    key = new_key()
    keys = parse_keys([f"acme:{hash_key(key)}", "# a comment", "", f" globex : {'ab' * 32} "])
    assert keys == {hash_key(key): "acme", "ab" * 32: "globex"}
    assert key not in str(keys)


@pytest.mark.parametrize("entry", ["acme", "acme:short", ":" + "ab" * 32, "acme:" + "zz" * 32])
def test_a_malformed_key_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="API key"):
        parse_keys([entry])


def test_a_bearer_key_maps_to_its_tenant_and_anything_else_is_401() -> None:
    key = new_key()
    auth = Authenticator({hash_key(key): "acme"}, disabled=False, limiter=RateLimiter(0, 1))
    assert auth.tenant(f"Bearer {key}") == "acme"
    for header in (None, "", "Bearer ", f"Basic {key}", "Bearer " + new_key(), key):
        with pytest.raises(ApiError) as err:
            auth.tenant(header)
        assert err.value.status == 401 and err.value.code == "unauthorized"


def test_open_mode_puts_everything_in_the_default_tenant() -> None:
    auth = Authenticator({}, disabled=True, limiter=RateLimiter(0, 1))
    assert auth.tenant(None) == "default"


def test_the_rate_cap_refills_over_time_and_is_per_tenant() -> None:
    limiter = RateLimiter(rate=2.0, burst=3.0)
    assert [limiter.allow("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a", now=100.0) == pytest.approx(0.5)
    assert limiter.allow("b", now=100.0) == 0.0  # another tenant has its own bucket
    assert limiter.allow("a", now=100.6) == 0.0  # 0.6 s later one request is back
    assert RateLimiter(rate=0, burst=1).allow("a") == 0.0  # 0 turns it off
