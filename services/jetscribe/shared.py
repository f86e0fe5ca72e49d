"""What both clients share: defaults from the environment, headers, upload parts,
download targets."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from .calls import Call
from .uploads import CountingReader, Progress, content_type_of

DEFAULT_SERVER = "http://127.0.0.1:8000"
WAIT_STEP_S = 60.0  # one `?wait=` request blocks at most this long, then is asked again
Source = str | Path | BinaryIO


def default_server(server: str | None = None) -> str:
    return (server or os.environ.get("JETSCRIBE_URL") or DEFAULT_SERVER).rstrip("/")


def headers_for(api_key: str | None) -> dict[str, str]:
    key = api_key if api_key is not None else os.environ.get("JETSCRIBE_API_KEY")
    headers = {"User-Agent": "jetscribe-client"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def timeout_of(call: Call[Any]) -> Any:
    return call.timeout if call.timeout is not None else httpx.USE_CLIENT_DEFAULT


def upload_part(
    file: BinaryIO, name: str, content_type: str | None, on_progress: Progress | None
) -> dict[str, Any]:
    return {
        "file": (name, CountingReader(file, on_progress), content_type or content_type_of(name))
    }


@contextlib.contextmanager
def opened(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, str | Path):
        with open(source, "rb") as file:
            yield file
    else:
        yield source


def partial_path(target: Path) -> Path:
    """Where a download is written until it is whole (an existing file stays untouched)."""
    return target.with_name(target.name + ".part")


def target_path(dest: str | Path, filename: str) -> Path:
    """`dest` itself, or `dest/<filename>` when it is a folder."""
    path = Path(dest)
    return path / Path(filename).name if path.is_dir() else path
