"""/healthz, /readyz and /metrics: for the orchestrator and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..state import Resources

router = APIRouter(tags=["ops"])
LEDGER_PROBE_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
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


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
