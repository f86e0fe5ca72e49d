"""Usable cores: a cgroup CPU quota (a Kubernetes CPU limit) caps the count."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.cores import cgroup_quota, usable_cores


def test_a_v2_quota_is_read_in_cores(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("250000 100000\n")
    assert cgroup_quota(cpu_max, (tmp_path / "none", tmp_path / "none")) == 2.5
    cpu_max.write_text("max 100000\n")
    assert cgroup_quota(cpu_max, (tmp_path / "none", tmp_path / "none")) is None


def test_a_v1_quota_is_read_and_minus_one_is_none(tmp_path: Path) -> None:
    quota, period = tmp_path / "quota", tmp_path / "period"
    quota.write_text("400000\n")
    period.write_text("100000\n")
    assert cgroup_quota(tmp_path / "absent", (quota, period)) == 4.0
    quota.write_text("-1\n")
    assert cgroup_quota(tmp_path / "absent", (quota, period)) is None


@pytest.mark.parametrize("text", ["nonsense", "100000 0", ""])
def test_garbage_is_no_quota(tmp_path: Path, text: str) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(text)
    assert cgroup_quota(cpu_max, (tmp_path / "x", tmp_path / "y")) is None


def test_usable_cores_is_at_least_one_and_at_most_the_affinity() -> None:
    import os

    assert 1 <= usable_cores() <= len(os.sched_getaffinity(0))
