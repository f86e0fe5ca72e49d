"""The web console: static files under /console (and / sends browsers there).

The console is a client of the public REST API like any other: these routes only hand
out its files. Its pages get a Content-Security-Policy with no inline script or style,
so user text the console shows (file names, transcripts) can never run as code even if
it reached the DOM as HTML (it does not: the scripts set text, never markup).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import GatewaySettings

ASSETS = Path(__file__).resolve().parent.parent / "console"
PREFIX = "/console"
router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def content_security_policy(settings: GatewaySettings) -> str:
    """Scripts, styles and API calls from this origin only; media may also come from
    the S3 endpoint the presigned links name (the player plays the input from there)."""
    endpoint = urlsplit(settings.s3_public_endpoint or settings.s3_endpoint)
    s3_origin = ""
    if endpoint.hostname:
        host = endpoint.hostname + (f":{endpoint.port}" if endpoint.port else "")
        # Path style (host/bucket/key) and virtual-host style (bucket.host/key, what
        # the SDK uses on AWS, with the region in the name: *.amazonaws.com).
        s3_origin = f"{endpoint.scheme}://{host}"
        if not _is_ip(endpoint.hostname):
            wildcard = "amazonaws.com" if host.endswith(".amazonaws.com") else host
            s3_origin += f" {endpoint.scheme}://*.{wildcard}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            f"media-src 'self' blob: {s3_origin}".rstrip(),
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class ConsoleHeaders:
    """Security headers on every response under /console (pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cache-control", b"no-cache"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(f"{PREFIX}/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, settings: GatewaySettings) -> None:
    app.include_router(router)
    app.mount(PREFIX, StaticFiles(directory=ASSETS, html=True), name="console")
    app.add_middleware(ConsoleHeaders, policy=content_security_policy(settings))
