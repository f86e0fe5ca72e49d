"""Resources the gateway builds in its lifespan and injects into routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client

from services.common.storage import ObjectStore

from .ledger_client import LedgerClient
from .settings import GatewaySettings


@dataclass
class Resources:
    settings: GatewaySettings
    nc: Client
    ledger: LedgerClient
    store: ObjectStore


async def get_resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


async def get_owner(request: Request) -> str:
    """The tenant of the caller. API keys come later; until then everything is `default`.

    Async on purpose, like every dependency here: FastAPI runs sync ones in a thread.
    """
    return "default"


Res = Annotated[Resources, Depends(get_resources)]
Owner = Annotated[str, Depends(get_owner)]
