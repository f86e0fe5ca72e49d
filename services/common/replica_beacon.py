"""Each worker replica says it is alive in the replicas KV bucket, for the console.

One key a type and replica (`replica.<type>.<worker id>`), rewritten every
`REPLICA_HEARTBEAT_S` with what it runs; the bucket's max age drops the keys of a
replica that died without saying goodbye. Nothing depends on it for correctness: a
failed round is logged and tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Iterable
from importlib import metadata

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from contracts import JobType, streams

from .periodic import Periodic

STOP_TIMEOUT_S = 2.0  # a goodbye NATS cannot take in time: the max age says it instead


async def replicas_kv(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    """The bucket (idempotent: created by whichever replica comes first)."""
    try:
        return await js.key_value(streams.REPLICAS_KV)
    except (BucketNotFoundError, NotFoundError):
        return await js.create_key_value(
            KeyValueConfig(
                bucket=streams.REPLICAS_KV,
                history=1,
                ttl=streams.REPLICAS_KV_MAX_AGE_S,
                replicas=replicas,
            )
        )


def _version() -> str:
    try:
        return metadata.version("jetscribe")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


class ReplicaBeacon:
    def __init__(
        self,
        js: JetStreamContext,
        service: str,
        worker_id: str,
        types: Iterable[JobType],
        identity: str | None,
        replicas: int = 1,
    ) -> None:
        self._js = js
        self._replicas = replicas
        self._keys = [streams.replica_key(t, worker_id) for t in types]
        self._value = json.dumps(
            {
                "service": service,
                "worker_id": worker_id,
                "host": socket.gethostname(),
                "model": identity,
                "version": _version(),
                "started_at": time.time(),
            }
        ).encode()
        self._kv: KeyValue | None = None
        self._loop = Periodic("replica-beacon", self.beat, streams.REPLICA_HEARTBEAT_S)

    async def beat(self) -> None:
        if self._kv is None:
            self._kv = await replicas_kv(self._js, self._replicas)
        try:
            for key in self._keys:
                await self._kv.put(key, self._value)
        except Exception:
            self._kv = None  # the bucket may be gone: made again next round
            raise

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        """Say goodbye at once (best effort: the max age does it otherwise)."""
        await self._loop.stop()
        if self._kv is not None:
            for key in self._keys:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._kv.delete(key), STOP_TIMEOUT_S)
