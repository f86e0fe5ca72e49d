"""Connection settings: NATS credentials and TLS from the environment; secrets hidden."""

from __future__ import annotations

import pytest

from services.common.settings import NatsSettings, ServiceSettings


def test_nats_authentication_settings_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://a:4222,nats://b:4222")
    monkeypatch.setenv("NATS_USER", "svc")
    monkeypatch.setenv("NATS_PASSWORD", "pw")
    monkeypatch.setenv("NATS_CREDS_FILE", "/etc/nats/app.creds")
    monkeypatch.setenv("NATS_NKEY_SEED_FILE", "/etc/nats/seed.nk")
    kwargs = NatsSettings().connect_kwargs()
    assert kwargs["servers"] == ["nats://a:4222", "nats://b:4222"]
    assert kwargs["user"] == "svc" and kwargs["password"] == "pw"
    assert kwargs["user_credentials"] == "/etc/nats/app.creds"
    assert kwargs["nkeys_seed"] == "/etc/nats/seed.nk"
    assert "tls" not in kwargs


def test_secrets_do_not_show_in_settings_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_SECRET_KEY", "very-secret-s3")
    monkeypatch.setenv("NATS_PASSWORD", "very-secret-nats")
    text = repr(ServiceSettings()) + str(ServiceSettings().model_dump())
    assert "very-secret-s3" not in text and "very-secret-nats" not in text
