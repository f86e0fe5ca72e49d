"""One running stack (real processes on real NATS, PostgreSQL, S3) per test module."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from services.devstack import infra
from tests.support.browser import chromium, chromium_paths, console_errors
from tests.support.fake_llm import FakeLlm
from tests.support.infra import S3Endpoint, unavailable
from tests.support.stack import Service, Stack, start_stack
from tests.support.webhook_receiver import WebhookReceiver


def s3_env(endpoint: S3Endpoint, bucket: str) -> dict[str, str]:
    return {
        "S3_ENDPOINT": endpoint.url,
        "S3_ACCESS_KEY": endpoint.access_key,
        "S3_SECRET_KEY": endpoint.secret_key,
        "S3_BUCKET": bucket,
    }


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Extra environment for the module's services (override per module)."""
    return {"MAX_UPLOAD_BYTES": str(5 * 1024 * 1024)}


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    """The services the module's stack runs (override per module)."""
    return ("ledger", "transcriber", "converter", "gateway")


@pytest.fixture(scope="module")
def stack(
    module_nats_url: str,
    module_database_url: str,
    s3_endpoint: S3Endpoint,
    tmp_path_factory: pytest.TempPathFactory,
    stack_env: dict[str, str],
    model_cache: Path,
    stack_names: tuple[str, ...],
) -> Iterator[Stack]:
    env = s3_env(s3_endpoint, f"e2e-{uuid.uuid4().hex[:10]}")
    env.update(stack_env, MODEL_CACHE_DIR=str(model_cache))
    running = start_stack(
        module_nats_url,
        module_database_url,
        env,
        tmp_path_factory.mktemp("logs"),
        names=stack_names,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def extra_gateway(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., str]]:
    """Another gateway replica on the same stack, with its own settings; its URL."""
    started: list[Service] = []

    def start(**env: str) -> str:
        port = infra.free_port()
        url = f"http://127.0.0.1:{port}"
        service = Service(
            "gateway",
            {**stack["gateway"].env, "PORT": str(port), **env},
            tmp_path_factory.mktemp("gw") / "gateway.log",
            f"{url}/readyz",
        )
        service.start()
        started.append(service)
        service.wait_ready()
        return url

    yield start
    for service in started:
        service.stop()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    """A local OpenAI-compatible server (tests/support/fake_llm.py), one per module."""
    fake = FakeLlm()
    server = fake.serve()
    yield fake
    server.should_exit = True


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint (tests/support/webhook_receiver.py), one per test."""
    hook = WebhookReceiver()
    server = hook.serve()
    yield hook
    server.should_exit = True


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Debian Chromium (tests/support/browser.py), one per module."""
    if chromium_paths() is None:
        unavailable("chromium", RuntimeError("chromium/chromedriver missing; make system-deps"))
    with chromium() as driver:
        yield driver


@pytest.fixture(autouse=True)
def no_browser_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test ends without a console error (a CSP violation is one)."""
    yield
    if "browser" in request.fixturenames:
        driver: WebDriver = request.getfixturevalue("browser")
        assert console_errors(driver) == []
