"""One scenario's world: its own NATS, PostgreSQL and S3 (restartable), the service
processes it needs, a fake LLM, and a tolerant REST client."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from services.common.adapters.s3 import ObjectStore
from services.common.settings import S3Settings
from services.devstack import infra as dev_infra
from tests.support.fake_llm import FakeLlm
from tests.support.stack import Service, Stack, start_stack

from .infra import Infra

ALL_SERVICES = ("ledger", "transcriber", "converter", "srt-fixer", "gateway")

# Short redelivery so a killed worker's job comes back in seconds, not a minute; heartbeats
# keep to the rule (at most a third of ack_wait). Two transcriber slots: two jobs in flight.
WORKER_ENV = {
    "ACK_WAIT_S": "10",
    "HEARTBEAT_S": "2",
    "SHUTDOWN_GRACE_S": "2",
    "TRANSCRIBER_MAX_CONCURRENT_JOBS": "2",
    "MAX_UPLOAD_BYTES": str(512 * 1024 * 1024),
    "LLM_MODEL": "openai/fake-model",
    "LLM_API_KEY": "chaos-key",
    "LLM_TIMEOUT_S": "10",
    "LLM_BACKOFF_S": "0.2",
}


@dataclass
class World:
    root: Path
    infra: Infra
    stack: Stack
    llm: FakeLlm
    bucket: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.stack.gateway_url, timeout=30)

    @property
    def database_url(self) -> str:
        return self.infra.pg.url

    @property
    def nats_url(self) -> str:
        return self.infra.nats.url

    def __getitem__(self, name: str) -> Service:
        return self.stack[name]

    def store(self) -> ObjectStore:
        return ObjectStore(
            S3Settings(
                s3_endpoint=self.infra.s3.url,
                s3_access_key=dev_infra.S3_ACCESS_KEY,
                s3_secret_key=SecretStr(dev_infra.S3_SECRET_KEY),
                s3_bucket=self.bucket,
            )
        )

    def upload(self, path: Path, content_type: str = "application/octet-stream") -> str:
        with path.open("rb") as fh:
            r = self.http.post(
                "/v1/files", files={"file": (path.name, fh, content_type)}, timeout=300
            )
        r.raise_for_status()
        return str(r.json()["id"])

    def submit(self, file_id: str, job_type: str, options: dict[str, Any]) -> str | None:
        """A job's id once the gateway answered 202; None when it refused or was away."""
        body = {"type": job_type, "file_id": file_id, "options": options, "cache": False}
        try:
            r = self.http.post("/v1/jobs", json=body)
        except httpx.HTTPError:
            return None
        return str(r.json()["id"]) if r.status_code == 202 else None

    def submit_many(
        self, file_id: str, job_type: str, options: dict[str, Any], n: int
    ) -> list[str]:
        ids = [self.submit(file_id, job_type, options) for _ in range(n)]
        return [i for i in ids if i is not None]

    def logs(self) -> str:
        return self.stack.logs()


@dataclass
class Lab:
    """What every scenario of a run shares: a scratch root, the model and media caches."""

    root: Path
    model_cache: Path
    media_dir: Path

    @classmethod
    def at(cls, root: Path) -> Lab:
        for sub in ("models", "media"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        return cls(root, root / "models", root / "media")

    @contextlib.contextmanager
    def world(
        self,
        names: tuple[str, ...] = ALL_SERVICES,
        env: dict[str, str] | None = None,
        llm_delay_s: float = 0.0,
    ) -> Iterator[World]:
        root = self.root / f"world-{uuid.uuid4().hex[:8]}"
        infra = Infra.start(root)
        llm = FakeLlm(delay_s=llm_delay_s)
        server = llm.serve()
        bucket = f"chaos-{uuid.uuid4().hex[:8]}"
        stack: Stack | None = None
        try:
            extra = {
                **WORKER_ENV,
                "MODEL_CACHE_DIR": str(self.model_cache),
                "LLM_API_BASE": llm.api_base,
                **(env or {}),
            }
            stack = start_stack(
                infra.nats.url,
                infra.pg.url,
                infra.s3_env(bucket),
                root / "logs",
                extra_env=extra,
                names=names,
            )
            yield World(root, infra, stack, llm, bucket)
        finally:
            if stack is not None:
                stack.stop()
            server.should_exit = True
            infra.stop()
