"""A NATS JetStream cluster on this machine: `size` nats-server processes, one route mesh.

Each node has its own config file, client port, monitoring port, cluster port and store
directory; `kill(i)` SIGKILLs one and `start(i)` brings it back on the same ports and
data, as a crashed node that is restarted would come back.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from services.devstack import infra

CLUSTER_NAME = "jetscribe-test"


@dataclass
class Node:
    name: str
    port: int
    monitor_port: int
    cluster_port: int
    config: Path
    log_path: Path
    proc: infra.Proc | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def monitor(self, path: str) -> dict[str, Any] | None:
        """A monitoring endpoint's JSON (None while the node does not answer)."""
        try:
            with urllib.request.urlopen(f"{self.monitor_url}{path}", timeout=1) as r:
                return json.loads(r.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:  # /healthz answers 503 with a JSON body
            try:
                return json.loads(exc.read())  # type: ignore[no-any-return]
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def meta_leader(self) -> str | None:
        jsz = self.monitor("/jsz")
        leader = ((jsz or {}).get("meta_cluster") or {}).get("leader")
        return str(leader) if leader else None

    def healthy(self) -> bool:
        """JetStream on this node is up to date (meta leader known, its streams current)."""
        health = self.monitor("/healthz")
        return bool(health and health.get("status") == "ok")

    def tail(self, lines: int = 40) -> str:
        return self.proc.tail(lines) if self.proc else ""


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (what NATS_URL takes)."""
        return ",".join(n.url for n in self.nodes)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def index_of(self, server_name: str) -> int:
        return next(i for i, n in enumerate(self.nodes) if n.name == server_name)

    def start(self, i: int, timeout: float = 30.0) -> None:
        """Start (or restart) node `i` with its config and data; returns once it serves
        clients and its JetStream has caught up with the cluster."""
        node = self.nodes[i]
        if node.alive():
            return
        proc = self._spawn(node)
        infra.wait_until(lambda: infra.port_open(node.port), proc, node.name, timeout)
        self.wait_healthy([i], timeout)

    @staticmethod
    def _spawn(node: Node) -> infra.Proc:
        argv = [infra.nats_server_binary(), "-c", str(node.config)]
        node.proc = infra.Proc(
            node.name,
            infra.spawn(node.name, argv, node.log_path),
            node.url,
            node.log_path,
            {"monitor_url": node.monitor_url},
        )
        return node.proc

    def kill(self, i: int) -> None:
        """SIGKILL node `i`: no goodbye to its routes or its clients."""
        node = self.nodes[i]
        if node.proc is not None:
            node.proc.stop(timeout=5, sig=signal.SIGKILL)

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                node.proc.stop()

    def wait_healthy(self, which: list[int] | None = None, timeout: float = 30.0) -> None:
        """Until each node in `which` (default: the live ones) knows the meta leader and
        says JetStream is healthy."""
        indices = which if which is not None else [i for i, n in enumerate(self.nodes) if n.alive()]
        deadline = time.monotonic() + timeout
        while True:
            waiting = []
            for i in indices:
                node = self.nodes[i]
                if node.proc is not None and not node.proc.alive():
                    raise infra.InfraError(f"{node.name} exited\n{node.tail()}")
                if not (node.meta_leader() and node.healthy()):
                    waiting.append(node.name)
            if not waiting:
                return
            if time.monotonic() > deadline:
                tails = "\n".join(
                    f"== {self.nodes[i].name}\n{self.nodes[i].tail()}" for i in indices
                )
                raise infra.InfraError(
                    f"JetStream not ready on {waiting} after {timeout:.0f}s\n{tails}"
                )
            time.sleep(0.1)

    def meta_leader(self) -> int | None:
        """The index of the JetStream meta leader, as a live node sees it."""
        for node in self.nodes:
            if node.alive() and (leader := node.meta_leader()):
                return self.index_of(leader)
        return None

    def clients(self, i: int) -> list[str]:
        """The names of node `i`'s client connections (none while it is down)."""
        node = self.nodes[i]
        connz = (node.monitor("/connz?limit=1024") if node.alive() else None) or {}
        return [str(c.get("name", "")) for c in connz.get("connections") or []]


def node_config(node: Node, store_dir: Path, routes: list[str]) -> str:
    route_list = ", ".join(f'"{r}"' for r in routes)
    return (
        f'server_name: "{node.name}"\n'
        f"listen: 127.0.0.1:{node.port}\n"
        f"http: 127.0.0.1:{node.monitor_port}\n"
        f'jetstream {{\n  store_dir: "{store_dir}"\n}}\n'
        "cluster {\n"
        f'  name: "{CLUSTER_NAME}"\n'
        f"  listen: 127.0.0.1:{node.cluster_port}\n"
        f"  routes: [{route_list}]\n"
        "}\n"
    )


def start_cluster(root: Path, size: int = 3, timeout: float = 60.0) -> Cluster:
    """`size` nodes under `root` (a folder each: config, log, store), all started; returns
    once JetStream has a meta leader that every node knows."""
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster()
    for i in range(size):
        home = root / f"n{i}"
        home.mkdir(exist_ok=True)
        cluster.nodes.append(
            Node(
                name=f"n{i}",
                port=infra.free_port(),
                monitor_port=infra.free_port(),
                cluster_port=infra.free_port(),
                config=home / "nats.conf",
                log_path=home / "nats.log",
            )
        )
    routes = [f"nats-route://127.0.0.1:{n.cluster_port}" for n in cluster.nodes]
    for node in cluster.nodes:
        node.config.write_text(node_config(node, node.config.parent / "jetstream", routes))
    try:
        procs = [Cluster._spawn(node) for node in cluster.nodes]
        for node, proc in zip(cluster.nodes, procs, strict=True):
            infra.wait_until(partial(infra.port_open, node.port), proc, node.name, timeout)
        cluster.wait_healthy(list(range(size)), timeout)
    except Exception:
        cluster.stop()
        raise
    return cluster
