"""verify: each knob applied / ignored / refused / unknown, read from real inspect data.

The fixtures in tests/fixtures/docker/ are inspect dicts captured from the real Docker 20.10 engine
(cgroup v1) for containers made from ``to_docker_kwargs``; cgroup v2 cases are derived from them the
way moby changes them (MemorySwappiness dropped to null, plus its create warning).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests import paths
from toolkit.core.compose.docker_args import spec_from_json
from toolkit.core.compose.spec import LABEL_SPEC
from toolkit.core.compose.verify import parse_env, parse_ulimit_l, verify

FIXTURES = paths.FIXTURES / "docker"
SWAPPINESS_WARNING = (
    "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. "
    "Memory swappiness discarded."
)


def load(name: str) -> tuple[list[str], dict[str, Any]]:
    data = json.loads((FIXTURES / name).read_text())
    return data["warnings"], data["inspect"]


def host_fixture() -> tuple[Any, dict[str, Any]]:
    _, inspect = load("inspect-host-v1-memlock-refused.json")
    return spec_from_json(inspect["Config"]["Labels"][LABEL_SPEC]), inspect


def test_memlock_refused_is_reported_as_refused() -> None:
    spec, inspect = host_fixture()
    report = verify(spec, inspect, ulimit_l="8192\n", cgroup_version="1")
    row = report.row("memlock")
    assert row.status == "refused" and row.actual == "8192 kB"


def test_memlock_in_place_is_still_ignored_by_ollama() -> None:
    spec, inspect = host_fixture()
    del inspect["Config"]["Labels"]["io.gpuless.refused"]
    inspect["HostConfig"]["Ulimits"] = [{"Name": "memlock", "Hard": -1, "Soft": -1}]
    row = verify(spec, inspect, ulimit_l="unlimited\n").row("memlock")
    assert row.status == "ignored" and row.actual == "unlimited" and "mlock" in row.why
    assert verify(spec, inspect, ulimit_l=None).row("memlock").status == "unknown"


def test_cgroup_v1_applies_swappiness_limits_and_env() -> None:
    spec, inspect = host_fixture()
    report = verify(spec, inspect, ulimit_l="8192", cgroup_version="1")
    knobs = ("restart", "network_mode", "volumes", "mem_limit", "memswap_limit", "mem_swappiness", "cpus",
             "healthcheck", "OLLAMA_HOST", "OLLAMA_NUM_PARALLEL", "OLLAMA_KV_CACHE_TYPE",
             "OLLAMA_FLASH_ATTENTION")  # fmt: skip
    for knob in knobs:
        assert report.row(knob).status == "applied", report.row(knob)
    assert report.row("cpus").actual == "1.5"
    assert report.row("mem_limit").actual == "1 GiB"
    assert report.counts()["refused"] == 1


def test_cgroup_v2_discarded_swappiness_is_ignored_from_the_warning_or_the_inspect() -> None:
    spec, inspect = host_fixture()
    v2 = copy.deepcopy(inspect)
    v2["HostConfig"]["MemorySwappiness"] = None
    with_warning = verify(spec, v2, warnings=[SWAPPINESS_WARNING], cgroup_version="2").row("mem_swappiness")
    assert with_warning.status == "ignored" and "discarded" in with_warning.why
    # A later `gpuless verify` has no create warnings: the null in HostConfig on cgroup v2 says the same.
    later = verify(spec, v2, cgroup_version="2").row("mem_swappiness")
    assert later.status == "ignored" and later.actual == "-"
    assert verify(spec, v2, cgroup_version=None).row("mem_swappiness").status in ("ignored", "unknown")


def test_memswap_without_swap_limit_support_is_ignored() -> None:
    spec, inspect = host_fixture()
    v2 = copy.deepcopy(inspect)
    v2["HostConfig"]["MemorySwap"] = -1
    warning = "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."  # noqa: E501
    row = verify(spec, v2, warnings=[warning]).row("memswap_limit")
    assert row.status == "ignored" and row.actual == "unlimited"
    assert verify(spec, v2).row("memswap_limit").status == "ignored"


def test_quantized_kv_without_flash_attention_and_bogus_env_are_ignored() -> None:
    spec, inspect = host_fixture()
    edited = copy.deepcopy(inspect)
    env = [e for e in edited["Config"]["Env"] if not e.startswith("OLLAMA_FLASH_ATTENTION=")]
    edited["Config"]["Env"] = [*env, "OLLAMA_FLASH_ATTENTION=0", "OLLAMA_NUM_THREADS=8"]
    # Ollama <= 0.24 ignores the cache type without flash attention; >= 0.30 (llm/llama_server.go:597-620)
    # fails to load the model; unset is llama.cpp's auto there, so the type works without =1.
    assert verify(spec, edited, version="0.12.3").row("OLLAMA_KV_CACHE_TYPE").status == "ignored"
    refused = verify(spec, edited, version="0.32.15").row("OLLAMA_KV_CACHE_TYPE")
    assert refused.status == "refused" and "HTTP 500" in refused.why
    edited["Config"]["Env"] = env
    auto = verify(spec, edited, version="0.32.15").row("OLLAMA_KV_CACHE_TYPE")
    assert auto.status == "applied" and "auto" in auto.why
    assert verify(spec, edited, version="0.24.0").row("OLLAMA_KV_CACHE_TYPE").status == "ignored"
    edited["Config"]["Env"] = [*env, "OLLAMA_FLASH_ATTENTION=0", "OLLAMA_NUM_THREADS=8"]
    report = verify(spec, edited)
    assert report.row("OLLAMA_FLASH_ATTENTION").status == "ignored"  # differs from what was asked
    threads = report.row("OLLAMA_NUM_THREADS")
    assert threads.status == "ignored" and "num_thread" in threads.why


def test_context_length_is_confirmed_by_api_ps() -> None:
    spec, inspect = host_fixture()
    assert spec.context_length == 4096
    unconfirmed = verify(spec, inspect, ps={"models": []}).row("OLLAMA_CONTEXT_LENGTH")
    assert unconfirmed.status == "applied" and "can't confirm" in unconfirmed.why
    ps = {"models": [{"name": "smollm2:135m", "model": "smollm2:135m", "context_length": 4096}]}
    assert verify(spec, inspect, ps=ps).row("OLLAMA_CONTEXT_LENGTH").why.startswith("/api/ps")
    ps["models"][0]["context_length"] = 2048
    capped = verify(spec, inspect, ps=ps).row("OLLAMA_CONTEXT_LENGTH")
    assert capped.status == "ignored" and capped.actual == "2048"


def test_published_port_on_loopback_is_applied_and_on_all_addresses_is_flagged() -> None:
    warnings, inspect = load("inspect-ports-created.json")
    spec = spec_from_json(inspect["Config"]["Labels"][LABEL_SPEC])
    row = verify(spec, inspect, warnings=warnings).row("ports")
    assert row.status == "applied" and row.actual == "127.0.0.1:11612:11434"
    opened = copy.deepcopy(inspect)
    opened["HostConfig"]["PortBindings"]["11434/tcp"] = [{"HostIp": "", "HostPort": "11612"}]
    flagged = verify(spec, opened).row("ports")
    assert flagged.status == "ignored" and "ALL addresses" in flagged.why


def test_missing_volume_and_other_restart_policy() -> None:
    spec, inspect = host_fixture()
    edited = copy.deepcopy(inspect)
    edited["Mounts"] = []
    edited["HostConfig"]["RestartPolicy"] = {"Name": "no"}
    report = verify(spec, edited)
    assert report.row("volumes").status == "ignored" and "lost" in report.row("volumes").why
    assert report.row("restart").status == "ignored"


def test_report_serialises() -> None:
    spec, inspect = host_fixture()
    data = verify(spec, inspect, ulimit_l="8192").to_dict()
    assert data["container"] == "gpuless-fixture-host"
    assert sum(data["counts"].values()) == len(data["rows"])
    json.dumps(data)


@pytest.mark.parametrize(("text", "value"), [("unlimited\n", -1), ("8192\n", 8192), ("", None), (None, None),
                                             ("sh: bad", None)])  # fmt: skip
def test_parse_ulimit(text: str | None, value: int | None) -> None:
    assert parse_ulimit_l(text) == value


def test_parse_env_keeps_equals_in_values() -> None:
    assert parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
