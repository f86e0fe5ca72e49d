"""Real infrastructure for tests: testcontainers when a Docker engine answers, otherwise
the same local processes `make dev` uses. TEST_NATS_URL / TEST_DATABASE_URL /
TEST_S3_ENDPOINT point at existing servers instead.

In CI (CI=true) a service that cannot be started fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.devstack import infra, postgres

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} could not be started: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=1).ping()
    except Exception:
        return False
    return True


@dataclass
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str


@contextlib.contextmanager
def nats_server(tmp: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_NATS_URL"):
        yield url
        return
    if docker_available():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        with DockerContainer("nats:2.10-alpine").with_command("-js").with_exposed_ports(4222) as c:
            wait_for_logs(c, "Server is ready")
            yield f"nats://{c.get_container_host_ip()}:{c.get_exposed_port(4222)}"
        return
    proc = infra.start_nats(tmp / "jetstream")
    try:
        yield proc.url
    finally:
        proc.stop()


@contextlib.contextmanager
def postgres_server(tmp: Path) -> Iterator[str]:
    """Yields an admin URL of a server on which tests may create databases."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    proc = postgres.start_postgres(tmp / "data", database="postgres", durable=False)
    try:
        yield proc.url
    finally:
        proc.stop()


@contextlib.contextmanager
def s3_server(tmp: Path) -> Iterator[S3Endpoint]:
    if url := os.environ.get("TEST_S3_ENDPOINT"):
        yield S3Endpoint(
            url,
            os.environ.get("TEST_S3_ACCESS_KEY", "minioadmin"),
            os.environ.get("TEST_S3_SECRET_KEY", "minioadmin"),
        )
        return
    if docker_available():
        from testcontainers.minio import MinioContainer

        with MinioContainer() as minio:
            cfg = minio.get_config()
            yield S3Endpoint(f"http://{cfg['endpoint']}", cfg["access_key"], cfg["secret_key"])
        return
    proc = infra.start_s3(tmp / "data")
    try:
        yield S3Endpoint(proc.url, infra.S3_ACCESS_KEY, infra.S3_SECRET_KEY)
    finally:
        proc.stop()
