"""Connection settings: NATS credentials and TLS from the environment; secrets hidden."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

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


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_nats_tls_uses_the_given_ca_and_client_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=nats.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("NATS_TLS_CA_FILE", str(cert))
    monkeypatch.setenv("NATS_TLS_CERT_FILE", str(cert))
    monkeypatch.setenv("NATS_TLS_KEY_FILE", str(key))
    context = NatsSettings().connect_kwargs()["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert any(c.get("subject") for c in context.get_ca_certs())


def test_secrets_do_not_show_in_settings_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_SECRET_KEY", "very-secret-s3")
    monkeypatch.setenv("NATS_PASSWORD", "very-secret-nats")
    text = repr(ServiceSettings()) + str(ServiceSettings().model_dump())
    assert "very-secret-s3" not in text and "very-secret-nats" not in text
