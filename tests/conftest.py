"""Shared fixtures: real NATS, PostgreSQL and S3 (see tests/support/infra.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import asyncpg
import nats
import pytest
from nats.aio.client import Client

from services.common import jetstream
from services.common.adapters.s3 import ObjectStore
from services.common.settings import S3Settings
from tests.support import media
from tests.support.infra import S3Endpoint, nats_server, postgres_server, s3_server, unavailable

T = TypeVar("T")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder: unit, handlers, connected, e2e, deploy."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in {"unit", "local", "handlers", "connected", "e2e", "deploy"}:
            item.add_marker(getattr(pytest.mark, tier))


# --- infrastructure ----------------------------------------------------------------------


def _serve(what: str, server: AbstractContextManager[T]) -> Iterator[T]:
    """Enter a server's context; a server that cannot start skips (fails in CI)."""
    try:
        value = server.__enter__()
    except Exception as exc:
        unavailable(what, exc)
    try:
        yield value
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve("PostgreSQL", postgres_server(tmp_path_factory.mktemp("postgres")))


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    yield from _serve("S3", s3_server(tmp_path_factory.mktemp("s3")))


def _nats_url(tmp: Path) -> Iterator[str]:
    yield from _serve("NATS", nats_server(tmp))


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A NATS JetStream server of this test's own (streams never shared between tests)."""
    yield from _nats_url(tmp_path)


@pytest.fixture(scope="module")
def module_nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _nats_url(tmp_path_factory.mktemp("nats"))


async def _fresh_database(admin_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
async def database_url(pg_admin_url: str) -> str:
    """A database of this test's own."""
    return await _fresh_database(pg_admin_url)


@pytest.fixture(scope="module")
async def module_database_url(pg_admin_url: str) -> str:
    return await _fresh_database(pg_admin_url)


def s3_settings(endpoint: S3Endpoint, bucket: str) -> S3Settings:
    return S3Settings(
        s3_endpoint=endpoint.url,
        s3_access_key=endpoint.access_key,
        s3_secret_key=endpoint.secret_key,  # type: ignore[arg-type]
        s3_bucket=bucket,
    )


@pytest.fixture
async def object_store(s3_endpoint: S3Endpoint) -> ObjectStore:
    """A bucket of this test's own."""
    store = ObjectStore(s3_settings(s3_endpoint, f"t-{uuid.uuid4().hex[:12]}"))
    await store.ensure_bucket()
    return store


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    await jetstream.ensure_streams(client.jetstream())
    yield client
    await client.drain()


# --- media -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def speech_wav(media_dir: Path) -> Path:
    if not media.espeak_available():
        unavailable(
            "espeak-ng (test speech)", RuntimeError("espeak-ng not installed; run make system-deps")
        )
    return media.speak(media.SPEECH_TEXT, media_dir / "speech.wav")


@pytest.fixture(scope="session")
def speech_mp3(speech_wav: Path, media_dir: Path) -> Path:
    return media.encode_audio(speech_wav, media_dir / "speech.mp3", "libmp3lame")


@pytest.fixture(scope="session")
def speech_mp4(speech_wav: Path, media_dir: Path) -> Path:
    return media.encode_video(speech_wav, media_dir / "speech.mp4", "libx264", "aac")


@pytest.fixture(scope="session")
def speech_mkv(speech_wav: Path, media_dir: Path) -> Path:
    return media.encode_video(speech_wav, media_dir / "speech.mkv", "libx264", "libmp3lame")


@pytest.fixture(scope="session")
def speech_webm(speech_wav: Path, media_dir: Path) -> Path:
    return media.encode_video(speech_wav, media_dir / "speech.webm", "libvpx", "libopus")


@pytest.fixture(scope="session")
def not_media(media_dir: Path) -> Path:
    path = media_dir / "notes.mp3"
    path.write_text("this is a text file pretending to be audio\n" * 200)
    return path
