"""Webhook signatures, URL checks and backoff (no network but name resolution)."""

from __future__ import annotations

import uuid

import pytest

from services.ledger.callback_urls import InvalidCallback, check_url
from services.ledger.webhooks import WebhookPolicy, sign, verify


def test_a_signature_covers_the_timestamp_and_the_body() -> None:
    body = b'{"job_id":"x","status":"completed","type":"transcribe"}'
    signature = sign("s3cret", 1700000000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("s3cret", "1700000000", body, signature)
    assert not verify("s3cret", "1700000001", body, signature)
    assert not verify("s3cret", "1700000000", body + b" ", signature)
    assert not verify("other", "1700000000", body, signature)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http://",
        "https://user:pw@example.com/hook",
        "javascript:alert(1)",
    ],
)
async def test_only_http_urls_with_a_host_are_callbacks(url: str) -> None:
    with pytest.raises(InvalidCallback):
        await check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
    ],
)
async def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(InvalidCallback, match="private"):
        await check_url(url, allow_private=False)
    await check_url(url, allow_private=True)


async def test_a_public_address_is_accepted() -> None:
    await check_url("https://93.184.215.14/hook", allow_private=False)


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = WebhookPolicy(secret=None, backoff_base_s=1.0, backoff_max_s=10.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_the_payload_is_compact_json_naming_the_job() -> None:
    import json

    from services.ledger.webhooks import payload

    job_id = uuid.uuid4()
    body = json.loads(payload(job_id, "failed", "convert", {"code": "x", "message": "y"}, None))
    assert body == {
        "job_id": str(job_id),
        "status": "failed",
        "type": "convert",
        "error": {"code": "x", "message": "y"},
        "finished_at": None,
    }
