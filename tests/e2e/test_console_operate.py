"""The web console in a real browser for the operator: the queue live, a job followed
through a gateway crash and cancelled, failures and filters, paging, API keys."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from contracts import subjects
from tests.support.browser import console_errors, wait_for, wait_until
from tests.support.client import Api
from tests.support.console_pages import (
    CSS,
    badge,
    find,
    open_console,
    texts,
)
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "gateway")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def long_audio(speech_wav: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 times the test speech (~9 min): long enough to still run when cancelled."""
    out = tmp_path_factory.mktemp("long") / "long.mp3"
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-stream_loop", "15", "-i", str(speech_wav)),
            *("-c:a", "libmp3lame", "-b:a", "48k", str(out)),
        ],
        check=True,
    )
    return out


def stored_event_kinds(stack: Stack, job_id: str) -> list[str]:
    """The job's event history as the API serves it (SSE, `follow=false`)."""
    body = httpx.get(
        f"{stack.gateway_url}/v1/jobs/{job_id}/events", params={"follow": "false"}, timeout=30
    ).text
    return [
        line.split(":", 1)[1].strip() for line in body.splitlines() if line.startswith("event:")
    ]


def queue_cell(driver: WebDriver, table: str, job_type: str, column: str) -> str:
    return find(driver, f"#{table} tr[data-type={job_type}] .{column}").text


def test_the_queue_updates_live_and_a_job_is_followed_through_a_gateway_crash_and_cancelled(
    browser: WebDriver, stack: Stack, api: Api, long_audio: Path
) -> None:
    open_console(browser, stack, "#/queue")
    wait_for(browser, "#queue-pools tr[data-type=transcribe]")
    assert int(queue_cell(browser, "queue-pools", "transcribe", "replicas")) == 1
    browser.execute_script("window.stillTheSamePage = true;")
    job = api.submit(api.upload(long_audio)["id"], type="transcribe")
    wait_until(
        browser,
        lambda d: queue_cell(d, "queue-types", "transcribe", "running") == "1",
        60,
        "the queue page never showed the job running",
    )
    assert browser.execute_script("return window.stillTheSamePage === true")  # no reload

    open_console(browser, stack, f"#/jobs/{job['id']}")
    wait_until(browser, lambda d: badge(d) == "processing", 60)

    def percent(d: WebDriver) -> int:
        return int(find(d, "#job-progress-text").text.rstrip(" %"))

    moving = wait_until(
        browser,
        lambda d: 0 < percent(d) < 100 and percent(d),
        90,
        "no live progress between 0 and 100 %",
    )
    assert moving and badge(browser) == "processing"
    gateway = stack["gateway"]
    gateway.stop(signal.SIGKILL)  # the page's event stream and its polls break off
    gateway.start()
    gateway.wait_ready()
    wait_until(
        browser, lambda d: percent(d) > moving, 90, "no progress after the gateway came back"
    )
    wait_for(browser, "#cancel-job").click()
    wait_until(browser, lambda d: badge(d) == "cancelled", 60, "never shown cancelled")
    assert api.get(job["id"])["status"] == "cancelled"
    wait_until(browser, lambda d: "cancelled" in texts(d, "#timeline td:nth-child(2)"), 30)
    assert not browser.find_elements(CSS, "#cancel-job")
    # Every event once, none lost: the stream resumed after the last one it had.
    assert texts(browser, "#timeline td:nth-child(2)") == stored_event_kinds(stack, job["id"])
    refused = console_errors(browser)  # the calls made while the gateway was down
    cut = ("net::ERR_CONNECTION_REFUSED", "net::ERR_INCOMPLETE_CHUNKED_ENCODING", "Failed to fetch")
    assert all(any(c in e for c in cut) for e in refused), refused


async def publish_to_jetstream(nats_url: str, subject: str, data: bytes) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(subject, data)
    finally:
        await nc.drain()


def test_a_dead_letter_shows_on_the_queue_page_as_it_happens(
    browser: WebDriver, stack: Stack
) -> None:
    open_console(browser, stack, "#/queue")
    wait_for(browser, "#queue-pools tr[data-type]")
    before = [t for t in texts(browser, "#view h2") if t.startswith("Dead letters")]
    subject = subjects.events_subject(uuid.uuid4())
    poison = "<b>not an event</b>"
    asyncio.run(publish_to_jetstream(stack.nats_url, subject, poison.encode()))
    rows = wait_until(
        browser,
        lambda d: [r for r in texts(d, "#dead-letters tbody tr") if subject in r],
        60,
        "the dead letter never showed",
    )
    assert poison in rows[0]  # the excerpt, as text
    after = [t for t in texts(browser, "#view h2") if t.startswith("Dead letters")]
    assert before != after and browser.execute_script("return document.querySelector('b')") is None


def test_a_failed_job_shows_its_code_on_its_page_and_in_the_filtered_table(
    browser: WebDriver, stack: Stack, api: Api, not_media: Path, speech_wav: Path
) -> None:
    bad = api.submit(api.upload(not_media)["id"], type="generate_srt")
    good = api.submit(api.upload(speech_wav)["id"], type="transcribe")
    failed = api.wait(bad["id"])
    assert failed["status"] == "failed" and api.wait(good["id"])["status"] == "completed"
    code = failed["error"]["code"]

    open_console(browser, stack, f"#/jobs/{bad['id']}")
    assert wait_until(browser, lambda d: texts(d, "#job-error .error-code"), 30) == [code]
    assert failed["error"]["message"] in find(browser, "#job-error").text

    open_console(browser, stack, "#/jobs")
    wait_for(browser, "tr[data-job-id]")
    Select(find(browser, "#filter-status")).select_by_value("failed")

    def rows(d: WebDriver) -> list[dict[str, Any]]:
        return [
            {
                "id": r.get_attribute("data-job-id"),
                "status": r.get_attribute("data-status"),
                "type": r.get_attribute("data-type"),
            }
            for r in d.find_elements(CSS, "#jobs-table tr[data-job-id]")
        ]

    def only(status: str | None = None, type_: str | None = None) -> Callable[[WebDriver], Any]:
        def check(d: WebDriver) -> list[dict[str, Any]] | None:
            got = rows(d)
            ok = got and all(
                (status is None or r["status"] == status) and (type_ is None or r["type"] == type_)
                for r in got
            )
            return got if ok else None

        return check

    shown = wait_until(browser, only(status="failed"), 30, "filter by status")
    assert bad["id"] in {r["id"] for r in shown} and good["id"] not in {r["id"] for r in shown}
    assert "status=failed" in browser.current_url  # the filter lives in the address
    assert code in texts(browser, "#jobs-table .error-code")

    Select(find(browser, "#filter-status")).select_by_value("")
    Select(find(browser, "#filter-type")).select_by_value("transcribe")
    shown = wait_until(browser, only(type_="transcribe"), 30, "filter by type")
    assert good["id"] in {r["id"] for r in shown}

    # The transcript beside an audio player, one line a segment.
    done = api.get(good["id"])["result"]
    open_console(browser, stack, f"#/jobs/{good['id']}")
    text = wait_for(browser, "#transcript").text
    assert " ".join(text.split()) == " ".join(done["text"].split())
    assert len(browser.find_elements(CSS, "#cues li.cue")) == len(done["segments"])
    assert find(browser, "#player").tag_name == "audio"


def test_the_jobs_table_pages_back_and_forth(browser: WebDriver, stack: Stack) -> None:
    http = httpx.Client(base_url=stack.gateway_url, timeout=10)
    first = http.get("/v1/jobs", params={"limit": 2}).json()
    second = http.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["items"], "the module's earlier tests made more than two jobs"

    def ids(d: WebDriver) -> list[str | None]:
        rows = d.find_elements(CSS, "#jobs-table tr[data-job-id]")
        return [r.get_attribute("data-job-id") for r in rows]

    open_console(browser, stack, "#/jobs?limit=2")
    page_one = [j["id"] for j in first["items"]]
    wait_until(browser, lambda d: ids(d) == page_one, 30)
    find(browser, "#next-page").click()
    wait_until(browser, lambda d: ids(d) == [j["id"] for j in second["items"]], 30, "page two")
    find(browser, "#prev-page").click()
    wait_until(browser, lambda d: ids(d) == page_one, 30, "back to page one")


# --- authentication -----------------------------------------------------------------


def test_with_authentication_the_console_asks_for_a_key_kept_in_the_tab_only(
    browser: WebDriver, extra_gateway: Callable[..., str]
) -> None:
    key = "console-test-key"
    digest = hashlib.sha256(key.encode()).hexdigest()
    url = extra_gateway(AUTH_DISABLED="false", API_KEYS=f"acme:{digest}")
    browser.get(f"{url}/console/#/jobs")
    field = wait_for(browser, "#key-bar #api-key")
    field.send_keys("wrong key\n")
    wait_until(browser, lambda d: "refused" in find(d, "#key-bar").text, 10)
    field = find(browser, "#api-key")
    field.send_keys(key + "\n")
    wait_for(browser, "#jobs-table table")
    assert find(browser, "#key-bar").get_attribute("hidden") is not None
    stored = browser.execute_script(
        "return [sessionStorage.length, localStorage.length, document.cookie]"
    )
    assert stored[0] == 1 and stored[1] == 0 and stored[2] == ""
    find(browser, "#forget-key").click()
    wait_for(browser, "#key-bar #api-key")
    assert browser.execute_script("return sessionStorage.length") == 0
    console_errors(browser)  # the refused calls are logged as 401s: expected here
