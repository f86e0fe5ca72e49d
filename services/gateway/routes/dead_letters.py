"""GET /v1/dead-letters: messages the system gave up (operators only), newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contracts import DeadLetterListResponse

from ..state import Owner, Res, ensure_operator

router = APIRouter(prefix="/v1/dead-letters", tags=["operations"])
MAX_ID = 2**63 - 1  # dead-letter ids are PostgreSQL bigints


@router.get("", response_model=DeadLetterListResponse)
async def list_dead_letters(
    res: Res,
    owner: Owner,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="next_before of the last page")
    ] = None,
) -> DeadLetterListResponse:
    """Every message a consumer terminated for good: subject, stream sequence,
    deliveries, reason and an excerpt. For tenants named in `OPERATOR_TENANTS` (in open
    mode, for everyone): dead letters are not scoped to a tenant."""
    ensure_operator(res, owner)
    return await res.ledger.dead_letters(limit, before)
