"""The web console in a real browser (Debian's Chromium, headless, through Selenium) on
the real stack: serving it, and what a person with a video to subtitle does."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import srt
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.support.browser import console_errors, wait_for, wait_until
from tests.support.client import Api
from tests.support.console_pages import (
    CSS,
    find,
    job_id_in_address,
    no_alert,
    open_console,
    submit_files,
    texts,
)
from tests.support.stack import Stack

XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


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
