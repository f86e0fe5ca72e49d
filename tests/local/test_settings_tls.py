"""NATS TLS settings against a real certificate made by the openssl CLI."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from services.common.settings import NatsSettings


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
