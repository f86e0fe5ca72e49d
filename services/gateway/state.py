"""Resources the gateway builds in its lifespan and injects into routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client

from contracts import ErrorCode
from services.common.adapters.s3 import ObjectStore

from .adapters.ledger import LedgerClient
from .auth import Authenticator
from .errors import ApiError
from .settings import GatewaySettings


@dataclass
class Resources:
    settings: GatewaySettings
    nc: Client
    ledger: LedgerClient
    store: ObjectStore
    auth: Authenticator


async def get_resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


async def get_owner(request: Request) -> str:
    """The tenant of the caller's API key (401 without a valid one; 429 over the rate).

    Async on purpose, like every dependency here: FastAPI runs sync ones in a thread.
    """
    res: Resources = request.app.state.resources
    return res.auth.tenant(request.headers.get("authorization"))


Res = Annotated[Resources, Depends(get_resources)]
Owner = Annotated[str, Depends(get_owner)]


def ensure_operator(res: Resources, owner: str) -> None:
    """403 unless the tenant may read operator views (everyone in open mode)."""
    settings = res.settings
    if not (settings.auth_disabled or owner in settings.operator_tenants):
        raise ApiError(403, ErrorCode.FORBIDDEN, "operator views are for operator tenants only")
