"""`make dev` keeps its services up: one killed by its PID comes back (with backoff, said
in the log), and jobs go on; Ctrl-C still stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from services.devstack.infra import free_port
from tests.e2e.conftest import s3_env
from tests.support.client import Api
from tests.support.infra import S3Endpoint
from tests.support.waiting import wait_until


def children_running(parent: int, module: str) -> list[int]:
    """PIDs of `parent`'s children whose command line runs `module`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent and module.encode() in argv:
            found.append(int(entry.name))
    return found


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_service_killed_by_its_pid_comes_back_and_the_job_finishes(
    module_nats_url: str,
    module_database_url: str,
    s3_endpoint: S3Endpoint,
    model_cache: Path,
    speech_wav: Path,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **s3_env(s3_endpoint, f"dev-{uuid.uuid4().hex[:10]}"),
        "NATS_URL": module_nats_url,
        "DATABASE_URL": module_database_url,
        "PORT": str(port),
        "DEV_DIR": str(tmp_path / "dev"),
        "MODEL_CACHE_DIR": str(model_cache),
    }
    log = tmp_path / "make-dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(
            [sys.executable, "-m", "services.devstack.main"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        # `make dev` supervises only once every service is ready (one that exits before
        # that stops it, as a configuration error would): wait for its own ready line,
        # not just the gateway's /readyz, which comes first while the model loads.
        wait_until(
            lambda: "jetscribe is ready" in log.read_text() or dev.poll() is not None,
            240,
            "make dev ready",
        )
        assert dev.poll() is None, log.read_text()[-3000:]
        assert ready(port)
        [killed] = children_running(dev.pid, "services.converter.main")
        os.kill(killed, signal.SIGKILL)
        wait_until(
            lambda: [
                p for p in children_running(dev.pid, "services.converter.main") if p != killed
            ],
            60,
            "the converter started again",
        )
        api = Api(f"http://127.0.0.1:{port}")
        upload = api.upload(speech_wav)
        job = api.submit(upload["id"], type="convert", options={"preset": "mp3"}, cache=False)
        assert api.wait(job["id"], 120)["status"] == "completed"
        text = log.read_text()
        assert "converter   | exited with -9; restarting in" in text, text[-3000:]
        assert dev.poll() is None  # the other services never stopped
    finally:
        dev.send_signal(signal.SIGINT)
        code = dev.wait(90)
    assert code == 0, log.read_text()[-3000:]
    assert children_running(dev.pid, "services.converter.main") == []
