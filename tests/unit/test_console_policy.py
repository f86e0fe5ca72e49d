"""The console's Content-Security-Policy: nothing inline, media from the S3 endpoint the
presigned links name (path style and virtual-host style), no credentials copied."""

from __future__ import annotations

import pytest

from services.gateway.routes.console import content_security_policy
from services.gateway.settings import GatewaySettings


def media_sources(endpoint: str, public: str | None = None) -> list[str]:
    settings = GatewaySettings(
        s3_endpoint=endpoint, s3_public_endpoint=public, jetscribe_dev_mode=True
    )
    policy = dict(d.strip().split(" ", 1) for d in content_security_policy(settings).split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in " ".join(policy.values())
    return policy["media-src"].split()


@pytest.mark.parametrize(
    ("endpoint", "public", "expected"),
    [
        ("http://127.0.0.1:9000", None, ["http://127.0.0.1:9000"]),
        (
            "http://minio:9000",
            "https://media.example.com",
            ["https://media.example.com", "https://*.media.example.com"],
        ),
        ("https://s3.amazonaws.com", None, ["https://s3.amazonaws.com", "https://*.amazonaws.com"]),
        (
            "https://key:secret@minio.example.com:9000",
            None,
            ["https://minio.example.com:9000", "https://*.minio.example.com:9000"],
        ),
    ],
)
def test_media_may_come_from_the_s3_endpoint_clients_are_sent_to(
    endpoint: str, public: str | None, expected: list[str]
) -> None:
    assert media_sources(endpoint, public) == ["'self'", "blob:", *expected]
