"""The gateway's OpenAPI document says what the gateway answers (pure: no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.gateway.app import create_app
from services.gateway.openapi import ERROR_STATUSES, UNAUTHENTICATED
from services.gateway.settings import GatewaySettings
from services.gateway.views import SUBMITTABLE

ERROR_REF = "#/components/schemas/ErrorOut"
OPENAI_ERROR_REF = "#/components/schemas/OpenAIErrorOut"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(GatewaySettings(auth_disabled=True, jetscribe_dev_mode=True))
    return app.openapi()


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_every_operation_has_its_errors_listed(document: dict[str, Any]) -> None:
    """A new route gets a line in openapi.ERROR_STATUSES (or is an unauthenticated one)."""
    operations = set(_operations(document))
    assert operations == set(ERROR_STATUSES) | UNAUTHENTICATED


def test_errors_are_documented_with_the_api_error_body(document: dict[str, Any]) -> None:
    for (method, path), operation in _operations(document).items():
        responses = operation["responses"]
        expected = set(ERROR_STATUSES.get((method, path), ()))
        if (method, path) not in UNAUTHENTICATED:
            expected |= {401, 429, 503}
        declared = {int(status) for status in responses if int(status) >= 400}
        if (method, path) == ("GET", "/readyz"):
            assert declared == {503}  # its own body: which checks failed
            continue
        assert declared == expected, (method, path)
        ref = OPENAI_ERROR_REF if path.startswith("/v1/audio/") else ERROR_REF
        for status in expected:
            content = responses[str(status)]["content"]
            assert content == {"application/json": {"schema": {"$ref": ref}}}, (method, status)


def test_no_fastapi_validation_body_is_documented(document: dict[str, Any]) -> None:
    """The gateway never answers FastAPI's {"detail": [...]}."""
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    error = document["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"] == {"$ref": "#/components/schemas/ErrorInfo"}
    info = document["components"]["schemas"]["ErrorInfo"]
    assert set(info["required"]) == {"code", "message"}


def test_metrics_are_documented_as_prometheus_text(document: dict[str, Any]) -> None:
    ok = document["paths"]["/metrics"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/plain"]


def test_a_job_type_is_documented_as_one_of_the_submittable_types(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for model in ("JobCreate", "BatchCreate"):
        job_type = schemas[model]["properties"]["type"]
        assert job_type["type"] == "string" and job_type["enum"] == SUBMITTABLE, model
    assert "batch" not in SUBMITTABLE
