"""/healthz, /readyz and /metrics: for the orchestrator and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..state import Resources
from ..views import Readiness

router = APIRouter(tags=["ops"])
LEDGER_PROBE_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: `checks` says what is down."}},
)
async def readyz(request: Request) -> JSONResponse:
    res: Resources | None = getattr(request.app.state, "resources", None)
    checks = {"nats": False, "ledger": False, "s3": False}
    if res is not None:
        checks["nats"] = res.nc.is_connected
        checks["s3"] = await res.store.ping()
        checks["ledger"] = await res.ledger.answers(LEDGER_PROBE_TIMEOUT_S)
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "checks": checks},
        status_code=200 if ok else 503,
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus text exposition format."}},
)
async def metrics() -> PlainTextResponse:
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)
