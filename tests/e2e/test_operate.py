"""Operating it: API keys and tenants, rate caps, no secrets in logs, metrics that move."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

import httpx
import nats
import pytest

from contracts import OPTIONS_BY_TYPE, JobType, streams, subjects
from services.gateway.auth import hash_key
from tests.support.client import Api
from tests.support.stack import Stack

KEY_A, KEY_B = "js_tenant_a_" + uuid.uuid4().hex, "js_tenant_b_" + uuid.uuid4().hex
WEBHOOK_SECRET = "whsec-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {
        "AUTH_DISABLED": "false",
        "API_KEYS": f"acme:{hash_key(KEY_A)},globex:{hash_key(KEY_B)}",
        "OPERATOR_TENANTS": "globex",
        "RATE_LIMIT_PER_S": "20",
        "RATE_LIMIT_BURST": "20",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "gateway")


def client(stack: Stack, key: str | None) -> Api:
    api = Api(stack.gateway_url, cache=False)
    if key:
        api.http.headers["Authorization"] = f"Bearer {key}"
    return api


@pytest.fixture(scope="module")
def tenant_a(stack: Stack) -> Api:
    return client(stack, KEY_A)


@pytest.fixture(scope="module")
def tenant_b(stack: Stack) -> Api:
    return client(stack, KEY_B)


def test_no_key_or_a_wrong_key_is_401(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {KEY_A}"}):
        r = httpx.get(f"{stack.gateway_url}/v1/jobs", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
    # Health and metrics stay open for probes and scrapers.
    assert httpx.get(f"{stack.gateway_url}/healthz").status_code == 200
    assert httpx.get(f"{stack.gateway_url}/metrics").status_code == 200


def test_a_tenant_never_sees_another_tenants_jobs_or_files(
    tenant_a: Api, tenant_b: Api, speech_mp3: Path
) -> None:
    file = tenant_a.upload(speech_mp3)
    job = tenant_a.submit(file["id"], options={"beam_size": 1})
    assert tenant_a.wait(job["id"])["status"] == "completed"

    for path in (
        f"/v1/jobs/{job['id']}",
        f"/v1/jobs/{job['id']}/events",
        f"/v1/jobs/{job['id']}/webhooks",
        f"/v1/files/{file['id']}",
        f"/v1/files/{file['id']}/content",
        f"/transcribe/{job['id']}",
    ):
        r = tenant_b.http.get(path)
        assert r.status_code == 404, (path, r.text)
        assert file["id"] not in r.text or path.startswith("/v1/files")
    assert tenant_b.http.post(f"/v1/jobs/{job['id']}/cancel").status_code == 404
    assert tenant_b.http.delete(f"/v1/files/{file['id']}").status_code == 404
    r = tenant_b.http.post("/v1/jobs", json={"type": "transcribe", "file_id": file["id"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "file_not_found"
    r = tenant_b.http.post("/v1/batches", json={"type": "transcribe", "file_ids": [file["id"]]})
    assert r.status_code == 404
    assert job["id"] not in [j["id"] for j in tenant_b.http.get("/v1/jobs").json()["items"]]
    # ...and the owner still has both.
    assert tenant_a.http.get(f"/v1/files/{file['id']}").status_code == 200
    assert job["id"] in [j["id"] for j in tenant_a.http.get("/v1/jobs").json()["items"]]


def test_dead_letters_are_listed_for_operator_tenants_only(tenant_a: Api, tenant_b: Api) -> None:
    r = tenant_a.http.get("/v1/dead-letters")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = tenant_b.http.get("/v1/dead-letters")  # globex is an operator tenant
    assert r.status_code == 200 and isinstance(r.json()["items"], list)


def test_the_queue_is_for_operator_tenants_and_counts_every_tenants_jobs(
    tenant_a: Api, tenant_b: Api, speech_wav: Path
) -> None:
    r = tenant_a.http.get("/v1/queue")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    job = tenant_a.submit(tenant_a.upload(speech_wav)["id"], type="generate_srt", cache=False)
    assert tenant_a.wait(job["id"])["status"] == "completed"
    queue = tenant_b.http.get("/v1/queue").json()  # acme's job, seen by the operator
    rows = {t["type"]: t for t in queue["types"]}
    assert rows["generate_srt"]["completed_recently"] >= 1 and queue["nats_figures"]
    pools = {p["type"]: p for p in queue["pools"]}
    assert pools["generate_srt"]["replicas"] == 1 and pools["generate_srt"]["services"] == [
        "transcriber"
    ]


def test_job_types_give_every_submittable_type_with_its_options_schema(tenant_a: Api) -> None:
    items = tenant_a.http.get("/v1/job-types").json()["items"]
    expected = {t for t in JobType if t is not JobType.BATCH}  # batches: POST /v1/batches
    assert {i["type"] for i in items} == {t.value for t in expected}
    for item in items:
        model = OPTIONS_BY_TYPE[JobType(item["type"])]
        assert item["options_schema"] == model.model_json_schema()
        assert item["input"] in {"media", "subtitles", "text"} and item["description"]


def test_the_request_rate_is_capped_per_tenant(stack: Stack) -> None:
    api = client(stack, KEY_B)
    codes = [api.http.get("/v1/jobs", params={"limit": 1}).status_code for _ in range(60)]
    assert 429 in codes and codes[0] == 200
    limited = api.http.get("/v1/jobs")
    if limited.status_code == 429:
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1


def test_metrics_move_after_a_job_runs(stack: Stack, tenant_a: Api, speech_mp3: Path) -> None:
    def scrape(url: str) -> dict[str, float]:
        text = httpx.get(url, timeout=10).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    health = {
        n: stack[n].health_url.replace("/readyz", "/metrics") for n in ("ledger", "transcriber")
    }
    health["gateway"] = f"{stack.gateway_url}/metrics"
    before = {n: scrape(u) for n, u in health.items()}
    job = tenant_a.submit(tenant_a.upload(speech_mp3)["id"], options={"beam_size": 1})
    assert tenant_a.wait(job["id"])["status"] == "completed"
    after = {n: scrape(u) for n, u in health.items()}

    def moved(service: str, prefix: str) -> bool:
        keys = [k for k in after[service] if k.startswith(prefix)]
        return any(after[service][k] > before[service].get(k, 0.0) for k in keys)

    assert moved(
        "transcriber", 'jetscribe_worker_jobs_total{outcome="completed",type="transcribe"}'
    )
    assert moved("transcriber", "jetscribe_worker_job_seconds_count")
    assert moved("transcriber", "jetscribe_worker_queue_wait_seconds_count")
    assert moved("transcriber", "jetscribe_s3_bytes_total")
    assert after["transcriber"]["jetscribe_model_load_seconds"] > 0
    assert moved("ledger", 'jetscribe_jobs_finished_total{status="completed",type="transcribe"}')
    assert moved("ledger", "jetscribe_ledger_events_ingested_total")
    assert moved("gateway", "jetscribe_gateway_jobs_submitted_total")
    # Consumer lag is reported for the consumers each service pulls from.
    assert (
        'jetscribe_consumer_pending{consumer="worker-transcribe",stream="JOBS"}'
        in after["transcriber"]
    )
    assert (
        'jetscribe_consumer_ack_pending{consumer="ledger-events",stream="JOB_EVENTS"}'
        in after["ledger"]
    )
    assert moved("gateway", "jetscribe_gateway_requests_total")


def test_no_secret_reaches_a_log(stack: Stack, tenant_a: Api, speech_mp3: Path) -> None:
    job = tenant_a.submit(tenant_a.upload(speech_mp3)["id"], options={"beam_size": 1})
    tenant_a.wait(job["id"])
    client(stack, "js_wrong_" + uuid.uuid4().hex).http.get("/v1/jobs")  # a refused key too
    secrets = {
        "API key": KEY_A,
        "S3 secret key": stack["ledger"].env["S3_SECRET_KEY"],
        "webhook secret": WEBHOOK_SECRET,
    }
    logs = stack.logs() + "".join(s.log_path.read_text() for s in stack.services.values())
    assert "job completed" in logs  # the logs are there and were read
    for what, value in secrets.items():
        assert value not in logs, f"the {what} appears in a log"


def test_trace_context_travels_from_the_client_to_the_worker_and_its_events(
    stack: Stack, tenant_a: Api, speech_mp3: Path
) -> None:
    trace_id = uuid.uuid4().hex
    file_id = tenant_a.upload(speech_mp3)["id"]
    r = tenant_a.http.post(
        "/v1/jobs",
        json={
            "type": "transcribe",
            "file_id": file_id,
            "options": {"beam_size": 1},
            "cache": False,
        },
        headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"},
    )
    job_id = r.json()["id"]
    assert tenant_a.wait(job_id)["status"] == "completed"

    job_lines = [
        json.loads(line)
        for line in stack["transcriber"].log_path.read_text().splitlines()
        if line.startswith("{") and job_id in line
    ]
    assert job_lines and all(line.get("trace_id") == trace_id for line in job_lines)

    async def completed_event_headers() -> dict[str, str]:
        nc = await nats.connect(stack.nats_url)
        try:
            msg = await nc.jetstream().get_last_msg(
                streams.EVENTS_STREAM, subjects.events_subject(job_id)
            )
        finally:
            await nc.close()
        assert json.loads(msg.data)["kind"] == "completed"
        return dict(msg.headers or {})

    headers = asyncio.run(completed_event_headers())
    assert headers["traceparent"].split("-")[1] == trace_id
