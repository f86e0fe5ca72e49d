"""Screenshots of the console's main pages for the README, from a running stack:

    make dev &    # then
    .venv/bin/python -m tests.support.console_screenshots http://127.0.0.1:8000 clip.mp4

It submits the clip from the browser (generate_srt), shows the job and the jobs table,
queues a few more copies to catch the queue page busy, then cancels them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from tests.support.browser import chromium, wait_for, wait_until

OUT = Path("docs")


def main(base: str, clip: Path) -> None:
    api = httpx.Client(base_url=base, timeout=60)
    with chromium(1200, 820) as driver:
        driver.get(f"{base}/console/#/submit")
        wait_for(driver, "#file-input").send_keys(str(clip.resolve()))
        driver.execute_script("document.querySelector('.options-box').open = true")
        driver.save_screenshot(str(OUT / "console-submit.png"))
        driver.find_element("css selector", "#submit-job").click()
        wait_until(driver, lambda d: "#/jobs/" in d.current_url, 60)
        wait_for(driver, "#cues li.cue", 300)
        driver.find_elements("css selector", "#cues li.cue")[1].click()
        time.sleep(1.5)
        driver.execute_script("document.getElementById('player').pause()")
        driver.save_screenshot(str(OUT / "console-job.png"))

        with clip.open("rb") as fh:
            file_id = api.post("/v1/files", files={"file": (clip.name, fh)}).json()["id"]
        jobs = [
            api.post("/v1/jobs", json={"type": t, "file_id": file_id, "cache": False}).json()["id"]
            for t in ("transcribe", "generate_srt", "transcribe", "generate_srt", "transcribe")
        ]
        driver.get(f"{base}/console/#/queue")
        wait_until(driver, lambda d: d.find_elements("css selector", "#queue-types .running"))
        time.sleep(2.5)
        driver.save_screenshot(str(OUT / "console-queue.png"))
        driver.get(f"{base}/console/#/jobs")
        wait_for(driver, "tr[data-job-id]")
        time.sleep(1)
        driver.save_screenshot(str(OUT / "console-jobs.png"))
        for job in jobs:
            api.post(f"/v1/jobs/{job}/cancel")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
