"""The web console in a real browser (Debian's Chromium, headless, through Selenium) on
the real stack: what a person with a video and an operator watching the queue do."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import srt
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.support.browser import chromium, chromium_paths, console_errors, wait_for, wait_until
from tests.support.client import Api
from tests.support.infra import unavailable
from tests.support.stack import Stack

CSS = "css selector"
XSS_NAME = "<img src=x onerror=alert(1)>"
TERMINAL = {"completed", "failed", "cancelled", "expired"}


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "converter", "gateway")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if chromium_paths() is None:
        unavailable("chromium", RuntimeError("chromium/chromedriver missing; make system-deps"))
    with chromium() as driver:
        yield driver


@pytest.fixture(autouse=True)
def no_browser_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test ends without a console error (a CSP violation is one)."""
    yield
    if "browser" in request.fixturenames:
        driver: WebDriver = request.getfixturevalue("browser")
        assert console_errors(driver) == []


@pytest.fixture(scope="module")
def long_audio(speech_wav: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight times the test speech (~4.5 min): long enough to still run when cancelled."""
    out = tmp_path_factory.mktemp("long") / "long.mp3"
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-stream_loop", "7", "-i", str(speech_wav)),
            *("-c:a", "libmp3lame", "-b:a", "48k", str(out)),
        ],
        check=True,
    )
    return out


def find(driver: WebDriver, css: str) -> WebElement:
    return driver.find_element(CSS, css)


def texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(CSS, css)]


def open_console(driver: WebDriver, stack: Stack, route: str = "") -> None:
    driver.get(f"{stack.gateway_url}/console/{route}")


def badge(driver: WebDriver) -> str:
    return find(driver, ".job-head .badge").text


def job_id_in_address(driver: WebDriver) -> str | None:
    url = driver.current_url
    return url.split("#/jobs/", 1)[1] if "#/jobs/" in url else None


def no_alert(driver: WebDriver) -> bool:
    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def submit_files(driver: WebDriver, stack: Stack, *files: Path) -> str:
    """Choose the files on the submit page, submit as the form stands; the new job's id."""
    open_console(driver, stack, "#/submit")
    wait_for(driver, "#file-input").send_keys("\n".join(str(f) for f in files))
    find(driver, "#submit-job").click()
    job_id: str = wait_until(driver, job_id_in_address, 60, "no job page after submitting")
    return job_id


# --- serving --------------------------------------------------------------------------


def test_root_redirects_to_the_console_served_with_a_strict_policy(stack: Stack) -> None:
    http = httpx.Client(base_url=stack.gateway_url, timeout=10)
    root = http.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/console/"
    page = http.get("/console/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset in ("js/main.js", "js/pages/submit.js", "console.css"):
        served = http.get(f"/console/{asset}")
        assert served.status_code == 200, asset
        kind = "css" if asset.endswith(".css") else "javascript"
        assert kind in served.headers["content-type"], (asset, served.headers["content-type"])
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
    assert http.get("/v1/jobs").headers.get("content-security-policy") is None  # API untouched


# --- the person with a video --------------------------------------------------------


def test_a_video_is_subtitled_followed_live_played_with_its_cues_and_downloaded(
    browser: WebDriver, stack: Stack, api: Api, speech_mp4: Path
) -> None:
    job_id = submit_files(browser, stack, speech_mp4)  # the default: generate_srt
    seen: set[str] = set()

    def reached_100(d: WebDriver) -> bool:
        seen.add(find(d, "#job-progress-text").text)
        return "100 %" in seen

    wait_until(browser, reached_100, 180, "progress never reached 100 %")
    job = api.wait(job_id)
    assert job["type"] == "generate_srt" and job["status"] == "completed", job
    cues = list(srt.parse(job["result"]["content"]))
    wait_for(browser, "#cues li.cue")
    shown = texts(browser, "#cues li.cue .cue-text")
    assert [" ".join(t.split()) for t in shown] == [" ".join(c.content.split()) for c in cues]
    kinds = wait_until(
        browser,
        lambda d: (
            "completed" in texts(d, "#timeline td:nth-child(2)")
            and texts(d, "#timeline td:nth-child(2)")
        ),
        30,
    )
    assert kinds[0] == "queued" and "started" in kinds and "progressed" in kinds, kinds

    # The input plays with the subtitles as its track; a click on a cue seeks to it.
    track = wait_until(
        browser,
        lambda d: d.execute_script(
            "const p = document.getElementById('player'), t = p && p.textTracks[0];"
            "return p && p.readyState >= 1 && t && t.cues && t.cues.length ? "
            "[p.tagName, t.mode, t.cues.length, p.duration] : null;"
        ),
        30,
        "no player with cues",
    )
    assert track[:3] == ["VIDEO", "showing", len(cues)]
    assert track[3] >= cues[-1].end.total_seconds() - 0.5  # the whole input, not a part
    browser.find_elements(CSS, "#cues li.cue")[2].click()
    at = wait_until(
        browser,
        lambda d: d.execute_script("return document.getElementById('player').currentTime || null;"),
        10,
    )
    assert abs(at - cues[2].start.total_seconds()) < 1.0

    links = browser.find_elements(CSS, "a.download")
    srt_links = [a for a in links if a.text.endswith(".srt")]
    assert srt_links, [a.text for a in links]
    href = srt_links[0].get_attribute("href") or ""
    body = httpx.get(href, timeout=30)
    assert body.status_code == 200 and body.text == job["result"]["content"]
    assert "response-content-disposition=attachment" in href  # S3 makes it a download


UNTOUCHED_FORMS = """
const [types, done] = arguments;
import("/console/js/schema_form.js").then((m) => {
  const out = {};
  for (const t of types) {
    try { out[t.type] = m.optionsForm(t.options_schema, "probe").values(); }
    catch (err) { out[t.type] = {error: err.message}; }
  }
  done(out);
}, (err) => done({importError: String(err)}));
"""


def test_every_job_type_gets_its_options_form_from_the_json_schema(
    browser: WebDriver, stack: Stack
) -> None:
    types = httpx.get(f"{stack.gateway_url}/v1/job-types", timeout=10).json()["items"]
    open_console(browser, stack, "#/submit")
    editor = wait_for(browser, "#submit-form .job-editor")
    for job_type in types:
        Select(editor.find_element(CSS, "select")).select_by_value(job_type["type"])
        editor = find(browser, "#submit-form .job-editor")
        fields = {
            e.get_attribute("data-option") for e in editor.find_elements(CSS, "[data-option]")
        }
        schema = job_type["options_schema"]
        assert fields == set(schema["properties"]), job_type["type"]
        box = editor.find_element(CSS, ".options-box")
        assert (box.get_attribute("open") is not None) == bool(schema.get("required"))

    # Untouched, a form sends nothing: the API's defaults apply, not the form's reading
    # of them; a required field left empty is named.
    untouched = browser.execute_async_script(UNTOUCHED_FORMS, types)
    for job_type in types:
        required = job_type["options_schema"].get("required") or []
        expected = {"error": f"{required[0]} is required"} if required else {}
        assert untouched[job_type["type"]] == expected, job_type["type"]


DROP_A_FILE = """
const data = new DataTransfer();
data.items.add(new File([new Uint8Array(arguments[0])], "dropped.wav", {type: "audio/wav"}));
document.getElementById("drop-zone").dispatchEvent(
  new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
"""


def test_a_dropped_file_uploads_with_byte_progress_and_a_refused_option_is_shown(
    browser: WebDriver, stack: Stack
) -> None:
    size = 3 * 1024 * 1024
    open_console(browser, stack, "#/submit")
    wait_for(browser, "#drop-zone")
    browser.execute_script(DROP_A_FILE, size)
    assert wait_until(browser, lambda d: texts(d, ".file-list li"), 10)[0].startswith("dropped.wav")
    find(browser, "#submit-form .options-box summary").click()
    find(browser, "#opt-language").send_keys("x")  # the schema wants 2 to 8 letters
    find(browser, "#submit-job").click()
    code = wait_until(browser, lambda d: texts(d, "#submit-status .error-code"), 60)
    assert code == ["invalid_options"] and "language" in find(browser, "#submit-status").text
    bar = find(browser, "#uploads progress.upload-progress")
    sent, total = int(bar.get_attribute("value") or 0), int(bar.get_attribute("max") or 0)
    # The bar starts at the file's size: the multipart body's, larger, came from progress.
    assert sent == total > size
    assert "uploaded" in find(browser, "#uploads .upload-bytes").text
    assert job_id_in_address(browser) is None  # nothing submitted: still on the form
    errors = console_errors(browser)  # the refused POST is logged: that one only
    assert len(errors) == 1 and "422" in errors[0], errors


def test_a_pipeline_recipe_submits_its_steps_and_the_job_page_follows_them(
    browser: WebDriver, stack: Stack, api: Api, speech_mp4: Path
) -> None:
    open_console(browser, stack, "#/submit")
    wait_for(browser, "#file-input").send_keys(str(speech_mp4))
    chip = next(
        c
        for c in browser.find_elements(CSS, ".recipes .chip")
        if c.text == "Video with subtitle track"
    )
    chip.click()
    assert len(browser.find_elements(CSS, "#submit-form li.step")) == 1
    find(browser, "#submit-job").click()
    job_id = wait_until(browser, job_id_in_address, 60)
    final = api.wait(job_id, 180)
    assert final["status"] == "completed", final
    assert [s["type"] for s in final["steps"]] == ["generate_srt", "convert"]
    wait_until(
        browser,
        lambda d: texts(d, "#steps tbody td:nth-child(3)") == ["completed"] * 2,
        60,
        "the steps table never showed the step completed",
    )
    # The root's page shows each later step's result too: here the subtitled video.
    wait_until(browser, lambda d: "Step 1: convert" in texts(d, "#view h2"), 30)
    assert len(browser.find_elements(CSS, "#view video")) == 2


def test_several_files_make_a_batch_and_a_file_name_stays_text(
    browser: WebDriver, stack: Stack, api: Api, speech_mp3: Path, tmp_path: Path
) -> None:
    hostile = tmp_path / XSS_NAME
    shutil.copyfile(speech_mp3, hostile)
    open_console(browser, stack, "#/submit")
    wait_for(browser, "#file-input").send_keys(f"{hostile}\n{speech_mp3}")
    listed = wait_until(browser, lambda d: texts(d, ".file-list li"), 10)
    assert any(XSS_NAME in t for t in listed), listed
    assert browser.execute_script("return document.images.length") == 0 and no_alert(browser)
    find(browser, "#submit-job").click()
    batch_id = wait_until(browser, job_id_in_address, 60)
    final = api.wait(batch_id, 180)
    assert final["type"] == "batch" and final["status"] == "completed", final
    children = wait_until(
        browser,
        lambda d: (
            [
                r.get_attribute("data-job-id")
                for r in d.find_elements(CSS, "table.jobs tr[data-status=completed]")
            ]
            if len(d.find_elements(CSS, "table.jobs tr[data-status=completed]")) == 2
            else None
        ),
        60,
        "the batch page never showed its two children completed",
    )
    inputs = []
    for child in children:
        open_console(browser, stack, f"#/jobs/{child}")
        inputs.append(wait_for(browser, ".job-head .filename").text)
        wait_for(browser, "a.download")
        assert browser.execute_script("return document.images.length") == 0 and no_alert(browser)
    assert sorted(inputs) == sorted([XSS_NAME, speech_mp3.name])


# --- the operator -------------------------------------------------------------------


def queue_cell(driver: WebDriver, table: str, job_type: str, column: str) -> str:
    return find(driver, f"#{table} tr[data-type={job_type}] .{column}").text


def test_the_queue_updates_live_and_a_running_job_is_cancelled_from_its_page(
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
    wait_for(browser, "#cancel-job").click()
    wait_until(browser, lambda d: badge(d) == "cancelled", 60, "never shown cancelled")
    assert api.get(job["id"])["status"] == "cancelled"
    wait_until(browser, lambda d: "cancelled" in texts(d, "#timeline td:nth-child(2)"), 30)
    assert not browser.find_elements(CSS, "#cancel-job")


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
