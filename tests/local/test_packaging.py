"""Heavy dependencies stay with the one service that needs them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_by(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(out.stdout.split())


def test_the_gateway_imports_neither_whisper_nor_the_database_driver() -> None:
    loaded = imported_by("services.gateway.app")
    assert not {"faster_whisper", "ctranslate2", "asyncpg", "av", "litellm"} & loaded


def test_the_ledger_does_not_import_whisper() -> None:
    assert not {"faster_whisper", "ctranslate2", "av", "litellm"} & imported_by(
        "services.ledger.main"
    )


def test_each_heavy_dependency_is_behind_its_own_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    assert "faster-whisper" not in core and "asyncpg" not in core and "fastapi" not in core
    assert any(d.startswith("faster-whisper") for d in extras["transcriber"])
    assert any(d.startswith("asyncpg") for d in extras["ledger"])
    assert any(d.startswith("fastapi") for d in extras["gateway"])


def test_the_clients_load_no_service_and_no_service_library() -> None:
    """`pip install 'jetscribe[client]'` is enough for the client, upstream helper and CLI."""
    loaded = imported_by("jetscribe.client, jetscribe.upstream, jetscribe.cli")
    assert {"httpx", "contracts", "typer", "rich", "nats"} <= loaded  # they really loaded
    heavy = {"fastapi", "starlette", "faststream", "asyncpg", "minio", "litellm"}
    heavy |= {"faster_whisper", "ctranslate2", "av", "ffmpeg", "numpy"}
    assert not heavy & loaded
    assert not any(m == "services" or m.startswith("services.") for m in loaded)


def test_the_client_extra_brings_what_the_clients_import() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    client = {d.split(">")[0].split("=")[0] for d in project["optional-dependencies"]["client"]}
    assert client == {"httpx", "httpx-sse", "typer", "rich"}
    assert project["scripts"]["jetscribe"] == "jetscribe.cli:main"
