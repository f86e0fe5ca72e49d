"""`Client` and `AsyncClient`: the gateway's REST API with the contracts' types.

    from jetscribe.client import Client

    with Client("http://127.0.0.1:8000", api_key="js_...") as js:
        upload = js.upload("talk.mp4")
        job = js.submit("generate_srt", upload.id, options={"language": "en"})
        for event in js.follow(job.id):      # typed events, resumed if the link drops
            print(event.kind, getattr(event, "progress", ""))
        print(js.get(job.id).result["content"])

The server and key default to `JETSCRIBE_URL` (else http://127.0.0.1:8000) and
`JETSCRIBE_API_KEY`. Every API error raises `JetscribeError` with the stable code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar
from uuid import UUID

import httpx
from httpx_sse import connect_sse

from contracts import FileRecord, JobEvent, JobRecord, JobStatus, JobType

from . import calls
from .async_client import AsyncClient
from .calls import Call, JobPage, Step
from .errors import JetscribeError
from .following import STREAM_TIMEOUT, EventStream
from .shared import (
    WAIT_STEP_S,
    Source,
    default_server,
    headers_for,
    opened,
    partial_path,
    target_path,
    timeout_of,
    upload_part,
)
from .uploads import Progress, name_of

__all__ = ["AsyncClient", "Client", "JetscribeError", "JobPage", "default_server"]

T = TypeVar("T")


class Client:
    """The synchronous client. Use it as a context manager, or call `close()`."""

    def __init__(
        self,
        server: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = default_server(server)
        self._http = httpx.Client(
            base_url=self.server, headers=headers_for(api_key), timeout=timeout, transport=transport
        )
        # Presigned URLs carry their own signature: no API key goes to the object store.
        self._objects = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._objects.close()

    def _send(self, call: Call[T]) -> T:
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=call.params,
                json=call.json,
                headers=call.headers,
                timeout=timeout_of(call),
            )
        except httpx.TransportError as exc:
            raise JetscribeError.unreachable(self.server, exc) from exc
        return call.answer(response)

    def upload(
        self,
        file: Source,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        on_progress: Progress | None = None,
    ) -> FileRecord:
        """Stream a file (a path or a binary file object) to `POST /v1/files`."""
        name = name_of(file, filename)
        with opened(file) as source:
            call = Call("POST", "/v1/files", calls.model_of(FileRecord))
            try:
                response = self._http.post(
                    call.path, files=upload_part(source, name, content_type, on_progress)
                )
            except httpx.TransportError as exc:
                raise JetscribeError.unreachable(self.server, exc) from exc
            return call.answer(response)

    def submit(
        self,
        type: JobType | str,
        file_id: UUID | str,
        *,
        options: Mapping[str, Any] | None = None,
        then: Sequence[Step] = (),
        idempotency_key: str | None = None,
        **settings: Any,
    ) -> JobRecord:
        """Submit a job; `then` makes it a pipeline. `settings`: `callback_url`,
        `retention_hours`, `delete_after_retrieval`, `cache`."""
        return self._send(
            calls.submit_job(type, file_id, options, then, idempotency_key, **settings)
        )

    def submit_batch(
        self,
        type: JobType | str,
        file_ids: Sequence[UUID | str],
        *,
        options: Mapping[str, Any] | None = None,
        then: Sequence[Step] = (),
        idempotency_key: str | None = None,
        **settings: Any,
    ) -> JobRecord:
        """One job per file under a parent job of type `batch`."""
        return self._send(
            calls.submit_batch(type, file_ids, options, then, idempotency_key, **settings)
        )

    def get(self, job_id: UUID | str) -> JobRecord:
        return self._send(calls.get_job(job_id))

    def wait(self, job_id: UUID | str, timeout: float | None = None) -> JobRecord:
        """The job once terminal, or as it stands after `timeout` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = WAIT_STEP_S if deadline is None else deadline - time.monotonic()
            job = self._send(calls.get_job(job_id, max(0.001, min(WAIT_STEP_S, left))))
            if job.status.is_terminal or (deadline is not None and time.monotonic() >= deadline):
                return job

    def jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        type: JobType | str | None = None,
        parent_id: UUID | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        return self._send(calls.list_jobs(status, type, parent_id, limit, cursor))

    def cancel(self, job_id: UUID | str) -> JobRecord:
        return self._send(calls.cancel_job(job_id))

    def get_file(self, file_id: UUID | str) -> FileRecord:
        return self._send(calls.get_file(file_id))

    def delete_file(self, file_id: UUID | str) -> None:
        self._send(calls.delete_file(file_id))

    def follow(
        self, job_id: UUID | str, *, last_event_id: str | None = None, live: bool = True
    ) -> Iterator[JobEvent]:
        """The job's events, history first, until it is terminal (`live=False`: the
        history only). A dropped connection is resumed with `Last-Event-ID` (no gap, no
        repeat)."""
        stream = EventStream(job_id, last_event_id, live)
        while not stream.ended:
            try:
                with connect_sse(
                    self._http,
                    "GET",
                    stream.path,
                    params=stream.params(),
                    headers=stream.headers(),
                    timeout=STREAM_TIMEOUT,
                ) as source:
                    if source.response.is_error:
                        source.response.read()
                        raise JetscribeError.from_response(source.response)
                    for sse in source.iter_sse():
                        event = stream.take(sse)
                        if event is not None:
                            yield event
                ended = stream.needs_check and self.get(job_id).status.is_terminal
                delay = stream.closed(ended)
            except httpx.TransportError as exc:
                delay = stream.dropped(exc)
            if delay is not None:
                time.sleep(delay)

    def download(
        self, file_id: UUID | str, dest: str | Path = ".", on_progress: Progress | None = None
    ) -> Path:
        """Save a file (`dest`, or `dest/<its filename>` when `dest` is a folder)."""
        record = self.get_file(file_id)
        if not record.url:
            raise JetscribeError("file_not_found", f"file {file_id} has no stored content")
        target = target_path(dest, record.filename)
        part = partial_path(target)
        try:
            with self._objects.stream("GET", record.url) as response:
                if response.is_error:
                    response.read()
                    raise JetscribeError.from_response(response)
                with open(part, "wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        if on_progress is not None:
                            on_progress(response.num_bytes_downloaded)
            part.replace(target)  # whole: into place
        except httpx.TransportError as exc:
            raise JetscribeError.unreachable(record.url.split("?")[0], exc) from exc
        finally:
            part.unlink(missing_ok=True)  # what an error left behind
        return target
