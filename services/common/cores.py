"""How many cores this process may really use: the CPU affinity, capped by a cgroup CPU
quota (a Kubernetes CPU limit), which `os.cpu_count()` ignores: sizing thread pools from
the node's cores in a 4-CPU pod only gets the process throttled."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1 = (
    Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
    Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def usable_cores() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_quota()
    # 2.5 CPUs is 2 usable cores: a third thread would only be throttled
    return max(1, min(cores, math.floor(quota))) if quota else max(1, cores)


def cgroup_quota(v2: Path = CGROUP_V2, v1: tuple[Path, Path] = CGROUP_V1) -> float | None:
    """The CPU quota in cores, or None when there is none (or it cannot be read). The
    paths are the container's own cgroup (a cgroup namespace: the default with cgroup
    v2 in Kubernetes and Docker)."""
    try:
        if v2.exists():
            limit, period = v2.read_text().split()[:2]
            return None if limit == "max" else int(limit) / int(period)
        if v1[0].exists():
            limit_us, period_us = (int(p.read_text()) for p in v1)
            return None if limit_us <= 0 else limit_us / period_us
    except (OSError, ValueError, ZeroDivisionError):
        return None
    return None
