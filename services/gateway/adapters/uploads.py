"""Streaming multipart uploads straight into S3, with bounded memory.

The request body is parsed incrementally (python-multipart's push parser). The `file`
part's bytes go through a `ChunkPipe` into a multipart S3 upload running in a thread;
other form fields (small) are collected for the caller. The size cap is enforced while
streaming, so an oversized upload is refused without being stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from python_multipart import MultipartParser
from python_multipart.multipart import MultipartState, parse_options_header
from starlette.requests import Request

from contracts import ErrorCode
from services.common.adapters.s3 import ChunkPipe, ObjectStore, upload_key
from services.common.errors import StorageUnavailable
from services.common.metrics import S3_BYTES

from ..errors import ApiError
from .part_headers import DEFAULT_FILENAME, checked_content_type, clean_filename

MAX_FIELD_BYTES = 64 * 1024
# Each upload in progress holds a thread (the SDK reads its pipe), so uploads have their
# own: in asyncio's default pool (cores + 4 threads) six slow uploads on 2 cores would
# leave nothing for anything else. Beyond 64 at once, an upload waits for a thread.
_UPLOAD_THREADS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="s3-upload")


class UploadTooLarge(Exception):
    pass


@dataclass
class UploadedFile:
    id: UUID
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)  # the last value of each field
    form: list[tuple[str, str]] = field(default_factory=list)  # every field, in order


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """Callbacks for the push parser: records headers, routes data."""

    def __init__(self) -> None:
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.file_started: _Part | None = None
        self.file_chunks: list[bytes] = []
        self.file_done = False
        self.fields: dict[str, str] = {}
        self.form: list[tuple[str, str]] = []

    def callbacks(self) -> dict[str, Any]:
        names = (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
        return {name: getattr(self, name) for name in names}

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", b""))
        self.part.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        self.part.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        if self.part.name == "file":
            if self.file_started is not None:
                raise ApiError(
                    422, ErrorCode.INVALID_REQUEST, "one 'file' field per upload, not several"
                )
            # Checked and cleaned before the S3 upload starts (part_headers.py).
            self.part.content_type = checked_content_type(self.headers.get("content-type"))
            self.part.filename = clean_filename(self.part.filename)
            self.file_started = self.part

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part is self.file_started:
            self.file_chunks.append(data[start:end])
        else:
            if len(self.part.data) + (end - start) > MAX_FIELD_BYTES:
                raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, "form field too large")
            self.part.data += data[start:end]

    def on_part_end(self) -> None:
        if self.part is self.file_started:
            self.file_done = True
        elif self.part.name:
            value = self.part.data.decode("utf-8", "replace")
            self.fields[self.part.name] = value
            self.form.append((self.part.name, value))


# Where the parser stands after the closing `--boundary--` (and any epilogue after it).
_COMPLETE = frozenset({MultipartState.END})


def _content_type(part: _Part) -> str:
    if part.content_type and part.content_type != "application/octet-stream":
        return part.content_type
    guessed, _ = mimetypes.guess_type(part.filename or "")
    return guessed or "application/octet-stream"


class _S3Sink:
    """The `file` part's bytes on their way into one S3 object, counted and hashed."""

    def __init__(self, store: ObjectStore, key: str, max_bytes: int) -> None:
        self.store = store
        self.key = key
        self.max_bytes = max_bytes
        self.pipe = ChunkPipe()
        self.digest = hashlib.sha256()
        self.size = 0
        self.upload: asyncio.Future[None] | None = None

    async def take(self, collector: _Collector) -> None:
        """Start the S3 upload once the file part begins; feed it what was parsed."""
        part = collector.file_started
        if part is not None and self.upload is None:
            metadata = {"original-filename": quote(part.filename or DEFAULT_FILENAME)}
            put = partial(
                self.store.put_stream_sync, self.key, self.pipe, _content_type(part), metadata
            )
            loop = asyncio.get_running_loop()
            self.upload = asyncio.ensure_future(loop.run_in_executor(_UPLOAD_THREADS, put))
            self.upload.add_done_callback(lambda _: self.pipe.reader_gone())
        for data in collector.file_chunks:
            self.size += len(data)
            if self.size > self.max_bytes:
                raise UploadTooLarge
            self.digest.update(data)
            try:
                await self.pipe.feed(data)
            except BrokenPipeError:
                assert self.upload is not None
                await self.upload  # raises what stopped it (StorageUnavailable...)
                raise
        collector.file_chunks.clear()

    async def finish(self) -> None:
        self.pipe.close()
        if self.upload is not None:
            await self.upload
        S3_BYTES.labels(direction="in").inc(self.size)

    async def abort(self, error: Exception) -> None:
        self.pipe.close(error)
        if self.upload is not None:
            # The SDK aborts its own multipart upload when the stream raises; remove any
            # object a single-part upload may have left.
            with contextlib.suppress(Exception):
                await self.upload
            with contextlib.suppress(Exception):
                await self.store.remove(self.key)


def _storage_down(exc: StorageUnavailable) -> ApiError:
    return ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, f"the upload could not be stored: {exc}")


def _boundary(request: Request, max_bytes: int) -> bytes:
    """The multipart boundary; 422 if the body is not multipart, 413 if declared too big."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ApiError(
            422, ErrorCode.INVALID_REQUEST, "expected multipart/form-data with a 'file' field"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 1024 * 1024:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"upload exceeds {max_bytes} bytes")
    return boundary


async def receive_upload(request: Request, store: ObjectStore, max_bytes: int) -> UploadedFile:
    """Stream the `file` field of a multipart request into S3; return what was stored."""
    boundary = _boundary(request, max_bytes)
    collector = _Collector()
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    file_id = uuid4()
    sink = _S3Sink(store, upload_key(file_id), max_bytes)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            await sink.take(collector)
        parser.finalize()
        if parser.state not in _COMPLETE:  # a cut-off body is not a complete file
            raise ApiError(
                400, ErrorCode.INVALID_REQUEST, "multipart body ends before its closing boundary"
            )
    except UploadTooLarge:
        await sink.abort(UploadTooLarge())
        raise ApiError(
            413, ErrorCode.PAYLOAD_TOO_LARGE, f"upload exceeds {max_bytes} bytes"
        ) from None
    except StorageUnavailable as exc:
        await sink.abort(exc)
        raise _storage_down(exc) from exc
    except asyncio.CancelledError:  # client went away: unblock and drop the upload
        await sink.abort(RuntimeError("client disconnected"))
        raise
    except Exception as exc:
        await sink.abort(exc)
        if isinstance(exc, ApiError):
            raise
        raise ApiError(422, ErrorCode.INVALID_REQUEST, f"malformed multipart body: {exc}") from exc

    part = collector.file_started
    if part is None or sink.upload is None:
        raise ApiError(422, ErrorCode.INVALID_REQUEST, "multipart field 'file' is required")
    try:
        await sink.finish()
    except StorageUnavailable as exc:
        raise _storage_down(exc) from exc
    return UploadedFile(
        id=file_id,
        key=sink.key,
        filename=part.filename or DEFAULT_FILENAME,
        content_type=_content_type(part),
        size=sink.size,
        sha256=sink.digest.hexdigest(),
        fields=collector.fields,
        form=collector.form,
    )
