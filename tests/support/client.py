"""A tiny REST client for tests: the calls a user would make with curl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx


class Api:
    def __init__(self, base_url: str, **job_defaults: Any) -> None:
        """`job_defaults` go into every `submit` (e.g. cache=False)."""
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.job_defaults = job_defaults

    def upload(self, path: Path, content_type: str | None = None) -> dict[str, Any]:
        with path.open("rb") as fh:
            files = {"file": (path.name, fh, content_type or "application/octet-stream")}
            r = self.http.post("/v1/files", files=files)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def submit(
        self,
        file_id: str,
        type: str = "transcribe",
        options: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {"type": type, "file_id": file_id, "options": options or {}}
        r = self.http.post("/v1/jobs", json={**body, **self.job_defaults, **extra})
        assert r.status_code == 202, r.text
        return r.json()  # type: ignore[no-any-return]

    def wait(self, job_id: str, seconds: float = 120) -> dict[str, Any]:
        r = self.http.get(f"/v1/jobs/{job_id}", params={"wait": seconds})
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def get(self, job_id: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]
