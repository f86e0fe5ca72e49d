"""`AsyncClient`: the same calls as `jetscribe.client.Client`, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from uuid import UUID

import httpx
from httpx_sse import aconnect_sse

from contracts import FileRecord, JobEvent, JobRecord, JobStatus, JobType

from . import calls
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

T = TypeVar("T")


class AsyncClient:
    """The asyncio client: the same calls as `Client`, awaited."""

    def __init__(
        self,
        server: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server = default_server(server)
        self._http = httpx.AsyncClient(
            base_url=self.server, headers=headers_for(api_key), timeout=timeout, transport=transport
        )
        self._objects = httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._objects.aclose()

    async def _send(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(
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

    async def upload(
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
                response = await self._http.post(
                    call.path, files=upload_part(source, name, content_type, on_progress)
                )
            except httpx.TransportError as exc:
                raise JetscribeError.unreachable(self.server, exc) from exc
            return call.answer(response)

    async def submit(
        self,
        type: JobType | str,
        file_id: UUID | str,
        *,
        options: Mapping[str, Any] | None = None,
        then: Sequence[Step] = (),
        idempotency_key: str | None = None,
        **settings: Any,
    ) -> JobRecord:
        return await self._send(
            calls.submit_job(type, file_id, options, then, idempotency_key, **settings)
        )

    async def submit_batch(
        self,
        type: JobType | str,
        file_ids: Sequence[UUID | str],
        *,
        options: Mapping[str, Any] | None = None,
        then: Sequence[Step] = (),
        idempotency_key: str | None = None,
        **settings: Any,
    ) -> JobRecord:
        return await self._send(
            calls.submit_batch(type, file_ids, options, then, idempotency_key, **settings)
        )

    async def get(self, job_id: UUID | str) -> JobRecord:
        return await self._send(calls.get_job(job_id))

    async def wait(self, job_id: UUID | str, timeout: float | None = None) -> JobRecord:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = WAIT_STEP_S if deadline is None else deadline - time.monotonic()
            job = await self._send(calls.get_job(job_id, max(0.001, min(WAIT_STEP_S, left))))
            if job.status.is_terminal or (deadline is not None and time.monotonic() >= deadline):
                return job

    async def jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        type: JobType | str | None = None,
        parent_id: UUID | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        return await self._send(calls.list_jobs(status, type, parent_id, limit, cursor))

    async def cancel(self, job_id: UUID | str) -> JobRecord:
        return await self._send(calls.cancel_job(job_id))

    async def get_file(self, file_id: UUID | str) -> FileRecord:
        return await self._send(calls.get_file(file_id))

    async def delete_file(self, file_id: UUID | str) -> None:
        await self._send(calls.delete_file(file_id))

    async def follow(
        self, job_id: UUID | str, *, last_event_id: str | None = None, live: bool = True
    ) -> AsyncIterator[JobEvent]:
        stream = EventStream(job_id, last_event_id, live)
        while not stream.ended:
            try:
                async with aconnect_sse(
                    self._http,
                    "GET",
                    stream.path,
                    params=stream.params(),
                    headers=stream.headers(),
                    timeout=STREAM_TIMEOUT,
                ) as source:
                    if source.response.is_error:
                        await source.response.aread()
                        raise JetscribeError.from_response(source.response)
                    async for sse in source.aiter_sse():
                        event = stream.take(sse)
                        if event is not None:
                            yield event
                ended = stream.needs_check and (await self.get(job_id)).status.is_terminal
                delay = stream.closed(ended)
            except httpx.TransportError as exc:
                delay = stream.dropped(exc)
            if delay is not None:
                await asyncio.sleep(delay)

    async def download(
        self, file_id: UUID | str, dest: str | Path = ".", on_progress: Progress | None = None
    ) -> Path:
        record = await self.get_file(file_id)
        if not record.url:
            raise JetscribeError("file_not_found", f"file {file_id} has no stored content")
        target = target_path(dest, record.filename)
        part = partial_path(target)
        try:
            async with self._objects.stream("GET", record.url) as response:
                if response.is_error:
                    await response.aread()
                    raise JetscribeError.from_response(response)
                with open(part, "wb") as out:  # noqa: ASYNC230 (local chunks: short writes)
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        if on_progress is not None:
                            on_progress(response.num_bytes_downloaded)
            part.replace(target)  # whole: into place
        except httpx.TransportError as exc:
            raise JetscribeError.unreachable(record.url.split("?")[0], exc) from exc
        finally:
            part.unlink(missing_ok=True)  # what an error left behind
        return target
