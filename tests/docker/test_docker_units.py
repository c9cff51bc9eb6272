"""The Docker backend's pure parts: apt mirror discovery, tags, subnets, rules.

No daemon is needed for these; they are marked `docker` as part of that suite.
"""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest

from harness.backends.docker.bootstrap import (
    DEFAULT_MIRROR,
    ImageBuildError,
    apt_sources,
    base_tag,
    debian_mirror,
)
from harness.backends.docker.image import WheelTarget, _download_wheels, image_tag
from harness.backends.docker.progress import Progress
from harness.backends.docker.resources import free_subnets, resource_name
from harness.backends.docker.rules import delay_rules_script, partition_script

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]


def test_mirror_from_deb822_sources_skips_disabled_and_other_suites(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a.sources").write_text(
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n"
        "Enabled: no\n\n"
        "# a comment\nTypes: deb deb-src\nURIs: http://mirror.example/debian/\n"
        "Suites: bookworm bookworm-updates\nComponents: main contrib\n"
        "Signed-By: /usr/share/keyrings/x.gpg\n  continued\n")
    (tmp_path / "sources.list.d" / "b.sources.disabled").write_text(
        "Types: deb\nURIs: http://never.example/debian\nSuites: bookworm\nComponents: main\n")
    assert debian_mirror(apt_sources(tmp_path)) == "http://mirror.example/debian"


def test_mirror_from_one_line_list_with_options(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://security.example/debian-security "
        "bookworm-security main\n"
        "deb [arch=amd64] http://one.example/debian bookworm main non-free\n")
    assert debian_mirror(apt_sources(tmp_path)) == "http://one.example/debian"


def test_mirror_falls_back_to_debian_cdn(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb http://x.example/ubuntu jammy main\n")
    assert debian_mirror(apt_sources(tmp_path)) == DEFAULT_MIRROR
    assert debian_mirror(apt_sources(tmp_path / "absent")) == DEFAULT_MIRROR


def test_base_tag_hashes_its_inputs() -> None:
    tag = base_tag("http://a.example/debian", "amd64")
    assert tag.startswith("quorumlab-base:bookworm-")
    assert tag == base_tag("http://a.example/debian", "amd64")
    assert tag != base_tag("http://b.example/debian", "amd64")
    assert tag != base_tag("http://a.example/debian", "arm64")


def test_image_tag_changes_with_replica_sources_and_base(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    for name in ("docker", "replica"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, root / name)
    before = image_tag("sha256:base", root)
    assert before == image_tag("sha256:base", root)
    assert before != image_tag("sha256:other", root)
    (root / "harness").mkdir()  # harness code is not in the image: no rebuild
    (root / "harness" / "x.py").write_text("x = 1\n")
    assert image_tag("sha256:base", root) == before
    (root / "replica" / "__init__.py").write_text("# changed\n")
    assert image_tag("sha256:base", root) != before


def test_free_subnets_avoid_every_used_network() -> None:
    pool = ipaddress.ip_network("10.213.0.0/22")
    used = [ipaddress.ip_network("10.213.1.0/24"), ipaddress.ip_network("10.213.2.128/25")]
    free = free_subnets(used, start=1, pool=pool)
    assert [str(n) for n in free] == ["10.213.3.0/24", "10.213.0.0/24"]
    assert free_subnets([ipaddress.ip_network("10.0.0.0/8")], pool=pool) == []


def test_resource_names_are_docker_safe() -> None:
    assert resource_name("run 1/x", "n1") == "quorumlab-run_1_x-n1"


def test_partition_rules_touch_only_our_chain() -> None:
    script = partition_script(["10.213.0.11", "10.213.0.12"])
    lines = script.splitlines()[1:]
    assert lines[0] == "iptables -w -F QUORUMLAB"
    assert all("QUORUMLAB" in line.split() for line in lines)
    assert "-s 10.213.0.12 -j DROP" in lines[-1]
    assert partition_script([]).splitlines()[1:] == ["iptables -w -F QUORUMLAB"]


def test_delay_rules_drop_before_queueing_and_only_for_peers() -> None:
    lines = delay_rules_script(["10.213.0.11"], delay_ms=20, loss=0.25).splitlines()[1:]
    assert lines[0] == "iptables -w -t mangle -F QUORUMLAB_NET"
    assert "-d 10.213.0.11 -m statistic --mode random --probability 0.250000 -j DROP" in lines[1]
    assert "-d 10.213.0.11 -j NFQUEUE" in lines[2]
    assert len(delay_rules_script(["10.213.0.11"], delay_ms=20, loss=0).splitlines()) == 3


def test_wheel_platforms_cover_every_manylinux_tag_the_glibc_runs() -> None:
    tags = WheelTarget("311", (2, 36), "x86_64").platforms()
    # orjson >= 3.9 ships cp311 wheels only as manylinux_2_17 / manylinux2014
    for needed in ("manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
                   "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"):
        assert needed in tags
    assert "manylinux_2_37_x86_64" not in tags  # would not load on bookworm's glibc
    assert tags[0] == "manylinux_2_36_x86_64"  # newest first: pip prefers the best fit
    arm = WheelTarget("311", (2, 36), "aarch64").platforms()
    assert "manylinux_2_17_aarch64" in arm and "manylinux2014_aarch64" in arm
    assert "manylinux_2_16_aarch64" not in arm  # aarch64 wheels start at glibc 2.17


def test_a_pinned_version_without_a_wheel_is_one_line_naming_it(tmp_path: Path) -> None:
    # Real pip against the real index (reachable here): orjson 0.0.1 never existed.
    target = WheelTarget("311", (2, 36), "x86_64")
    with pytest.raises(ImageBuildError) as caught:
        _download_wheels(["orjson==0.0.1"], target, tmp_path, Progress(quiet=True))
    message = str(caught.value)
    assert "\n" not in message
    assert "orjson==0.0.1" in message and "manylinux_2_36_x86_64" in message
