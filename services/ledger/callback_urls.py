"""Callback URLs: refused unless http(s) with a host and, by default, a public address."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class InvalidCallback(ValueError):
    pass


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


async def check_url(url: str, allow_private: bool) -> None:
    """http(s) only; with `allow_private` False, no host that resolves to a private,
    loopback or link-local address (checked again at every delivery: DNS may change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCallback("callback_url must be an http or https URL with a host")
    if parts.username or parts.password:
        raise InvalidCallback("callback_url must not carry credentials")
    if allow_private:
        return
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise InvalidCallback(f"callback_url host {host!r} does not resolve") from exc
    if any(_is_private(str(info[4][0])) for info in infos):
        raise InvalidCallback(
            f"callback_url host {host!r} is a private address (WEBHOOK_ALLOW_PRIVATE=false)"
        )
