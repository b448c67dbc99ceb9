"""The compose spec and its two renderings: valid Compose, a comment for every knob, no drift."""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import os
from typing import Any

import jsonschema
import pytest
import yaml

from tests import paths
from toolkit.adapters.resources import load_catalog, load_shipped_profiles
from toolkit.core.compose.docker_args import spec_fingerprint, spec_from_json, spec_to_json, to_docker_kwargs
from toolkit.core.compose.read import read_compose_text, unescape_dollars
from toolkit.core.compose.render import KNOBS, init_script, render_compose_yaml, why
from toolkit.core.compose.spec import (
    HEALTHCHECK_TEST,
    LABEL_FINGERPRINT,
    LABEL_SPEC,
    OllamaServiceSpec,
    base_model,
    build_spec,
    served_model,
)
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.recommend.plan import PlanRequest, plan_service
from toolkit.errors import UsageError

GIB = 1024**3

LINUX_V1 = DockerEngineInfo(
    reachable=True, os_type="linux", operating_system="Debian GNU/Linux 12 (bookworm)",
    ncpu=2, mem_total_bytes=24 * GIB, cgroup_version="1", swap_limit=True,
)  # fmt: skip
LINUX_V2 = DockerEngineInfo(
    reachable=True, os_type="linux", operating_system="Ubuntu 24.04 LTS",
    ncpu=8, mem_total_bytes=16 * GIB, cgroup_version="2", swap_limit=True,
)  # fmt: skip
DESKTOP = DockerEngineInfo(
    reachable=True, os_type="linux", operating_system="Docker Desktop", is_desktop=True,
    ncpu=4, mem_total_bytes=8 * GIB, cgroup_version="2", swap_limit=True,
)  # fmt: skip
#: This machine's engine: rootful, cgroup v1, started with --bridge=none.
NO_BRIDGE = dataclasses.replace(LINUX_V1, has_bridge=False)
ROOTLESS = dataclasses.replace(LINUX_V2, rootless=True, has_bridge=True)
PODMAN = dataclasses.replace(LINUX_V2, is_podman=True, has_bridge=True, operating_system="fedora")


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    """The Compose Specification schema as vendored by check-jsonschema (``vendor.compose-spec``)."""
    text = (
        importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
        .joinpath("compose-spec.json")
        .read_text()
    )
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def variants() -> dict[str, OllamaServiceSpec]:
    """Every rendering branch: engines, network modes, expose, limits or none, KV types, memlock off."""
    base: dict[str, Any] = {"model": "qwen2.5:1.5b", "context_length": 8192, "num_parallel": 2}
    return {
        "linux-v1": build_spec(**base, engine=LINUX_V1, mem_limit_bytes=4 * GIB, cpus=2),
        "no-bridge": build_spec(**base, engine=NO_BRIDGE, mem_limit_bytes=4 * GIB, cpus=2),
        "rootless": build_spec(**base, engine=ROOTLESS, mem_limit_bytes=4 * GIB, cpus=2),
        "podman": build_spec(**base, engine=PODMAN, mem_limit_bytes=4 * GIB, cpus=2),
        "linux-v2-q8": build_spec(
            **base, engine=LINUX_V2, mem_limit_bytes=6 * GIB, cpus=6, kv_cache_type="q8_0"
        ),
        "desktop": build_spec(**base, engine=DESKTOP, mem_limit_bytes=5 * GIB, cpus=3.5),
        "desktop-exposed": build_spec(**base, engine=DESKTOP, expose=True, port=11500),
        "linux-exposed": build_spec(**base, engine=LINUX_V2, expose=True),
        "unknown-engine": build_spec(model="smollm2:135m"),
        "memlock-forced-fa-off": build_spec(model="llama3.2:1b", engine=LINUX_V2, flash_attention=False,
                                            memlock=True, mem_limit_bytes=1536 * 1024**2),
        "dollar-model": build_spec(model="my$model:1b", engine=NO_BRIDGE, keep_alive="1h"),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(variants()))
def test_every_variant_validates_against_the_compose_schema(
    name: str, validator: jsonschema.protocols.Validator
) -> None:
    document = yaml.safe_load(render_compose_yaml(variants()[name]))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_rejects_a_broken_file(validator: jsonschema.protocols.Validator) -> None:
    # Guard against a validator that accepts anything: a typo'd key must fail.
    document = yaml.safe_load(render_compose_yaml(variants()["linux-v1"]))
    document["services"]["ollama"]["mem_limitt"] = "4g"
    assert list(validator.iter_errors(document))


@pytest.mark.parametrize("name", list(variants()))
def test_file_and_docker_kwargs_describe_the_same_container(name: str) -> None:
    spec = variants()[name]
    service = unescape_dollars(yaml.safe_load(render_compose_yaml(spec)))["services"]["ollama"]  # as compose
    kwargs = to_docker_kwargs(spec)
    host = kwargs["host_config"]
    assert service["image"] == kwargs["image"]
    assert service["container_name"] == kwargs["name"]
    assert service["environment"] == kwargs["environment"]
    assert service["labels"] == kwargs["labels"]
    assert service["restart"] == host["restart_policy"]["Name"]
    assert service["healthcheck"]["test"] == kwargs["healthcheck"]["test"] == list(HEALTHCHECK_TEST)
    assert _seconds(service["healthcheck"]["interval"]) * 10**9 == kwargs["healthcheck"]["interval"]
    assert _seconds(service["healthcheck"]["start_period"]) * 10**9 == kwargs["healthcheck"]["start_period"]
    assert service["volumes"] == [f"{spec.volume_name}:/root/.ollama"]
    assert host["binds"] == {spec.volume_name: {"bind": "/root/.ollama", "mode": "rw"}}
    if spec.network == "host":
        assert service["network_mode"] == host["network_mode"] == "host"
        assert "ports" not in service and "port_bindings" not in host
    else:
        host_ip, host_port = host["port_bindings"][11434]
        assert service["ports"] == [f"{host_ip}:{host_port}:11434"]
        assert "network_mode" not in service
    if spec.mem_limit_bytes is None:
        assert "mem_limit" not in service and "mem_limit" not in host
    else:
        assert _bytes(service["mem_limit"]) == host["mem_limit"] == spec.mem_limit_bytes
        assert _bytes(service["memswap_limit"]) == host["memswap_limit"] == host["mem_limit"]
    if spec.cpus is None:
        assert "cpus" not in service and "nano_cpus" not in host
    else:
        assert round(service["cpus"] * 1e9) == host["nano_cpus"]
    assert service.get("mem_swappiness") == host.get("mem_swappiness") == spec.mem_swappiness
    assert service["security_opt"] == host["security_opt"] == ["no-new-privileges:true"]
    assert service["cap_drop"] == host["cap_drop"] == ["ALL"]
    if spec.memlock_unlimited:
        assert service["ulimits"] == {"memlock": {"soft": -1, "hard": -1}}
        assert host["ulimits"] == [{"name": "memlock", "soft": -1, "hard": -1}]
    else:
        assert "ulimits" not in service and "ulimits" not in host


def _seconds(text: str) -> int:
    assert text.endswith("s")
    return int(text[:-1])


def _bytes(text: str) -> int:
    units = {"g": 1024**3, "m": 1024**2, "k": 1024, "b": 1}
    return int(text[:-1]) * units[text[-1]]


def _flat(text: str) -> str:
    """The file's words with comment marks and line breaks removed (comments are wrapped)."""
    return " ".join(line.strip().removeprefix("#").strip() for line in text.splitlines())


def _comment_above(lines: list[str], index: int) -> str:
    """The comment block right above line ``index``, joined back into one text."""
    block: list[str] = []
    while index > 0 and lines[index - 1].strip().startswith("#"):
        index -= 1
        block.insert(0, lines[index].strip()[2:])
    return " ".join(block)


def test_every_knob_is_commented_above_its_line() -> None:
    spec = variants()["linux-v2-q8"]
    lines = render_compose_yaml(spec).splitlines()
    key_of = {
        "OLLAMA_HOST": "OLLAMA_HOST:", "network_mode": "network_mode:", "restart": "restart:",
        "volumes": "volumes:", "mem_limit": "mem_limit:", "memswap_limit": "memswap_limit:",
        "mem_swappiness": "# mem_swappiness: 0", "cpus": "cpus:", "memlock": "# ulimits:",
        "healthcheck": "healthcheck:", "labels": "labels:", "security_opt": "security_opt:",
        "init": "image:",
    }  # fmt: skip
    skipped = ("ports", "network_mode", "no_mem_limit")  # not in this variant (checked below)
    for knob in KNOBS:
        if knob in skipped:
            continue
        prefix = key_of.get(knob, f"{knob}:")
        start = lines.index("  ollama-init:") if knob == "init" else 0
        index = next(i for i, line in enumerate(lines) if i > start and line.strip().startswith(prefix))
        assert why(spec, knob) in _comment_above(lines, index), knob
    text = "\n".join(lines)
    assert "OLLAMA_NUM_THREADS" not in text  # there is no such variable
    assert "PARAMETER num_thread 6" in text  # the served model carries the thread count
    assert "this cgroup v2 engine discards mem_swappiness" in _flat(
        text
    )  # the swappiness comment tells the truth


def test_inactive_knobs_are_commented_lines_that_say_why() -> None:
    v2 = yaml.safe_load(render_compose_yaml(variants()["linux-v2-q8"]))["services"]["ollama"]
    assert "mem_swappiness" not in v2 and "ulimits" not in v2
    v1_text = render_compose_yaml(variants()["linux-v1"])
    v1 = yaml.safe_load(v1_text)["services"]["ollama"]
    assert v1["mem_swappiness"] == 0 and "Compose v2 drops it silently" in _flat(v1_text)
    rootless = render_compose_yaml(variants()["rootless"])
    assert "this rootless engine refuses it" in _flat(rootless)
    assert "mem_swappiness" not in yaml.safe_load(rootless)["services"]["ollama"]
    assert "Podman refuses it" in _flat(render_compose_yaml(variants()["podman"]))
    forced = render_compose_yaml(variants()["memlock-forced-fa-off"])
    assert yaml.safe_load(forced)["services"]["ollama"]["ulimits"] == {"memlock": {"soft": -1, "hard": -1}}
    assert "Forced with --memlock" in _flat(forced)


def test_networking_follows_the_engine() -> None:
    def network(name: str) -> str:
        return variants()[name].network

    assert network("no-bridge") == "host"  # dockerd --bridge=none: published ports cannot work
    assert network("linux-v1") == "ports"  # bridge unknown or present: 127.0.0.1 ports
    assert network("rootless") == network("podman") == network("desktop") == "ports"
    assert "no bridge network" in _flat(render_compose_yaml(variants()["no-bridge"]))
    forced = build_spec(model="m:1b", engine=ROOTLESS, network="host")
    assert "asked for with --network host" in _flat(render_compose_yaml(forced))


def test_every_dollar_is_escaped_for_compose_and_read_back() -> None:
    spec = variants()["dollar-model"]
    text = render_compose_yaml(spec)
    values = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    assert "my$$model:1b" in values and "my$model" not in values.replace("$$", "")  # comments are free
    assert read_compose_text(text).spec.model == "my$model:1b"
    assert not read_compose_text(text).edited


def test_the_served_model_carries_the_tuned_parameters() -> None:
    assert served_model("qwen2.5:1.5b") == "qwen2.5:1.5b-gpuless"
    assert served_model("llama3") == "llama3:gpuless"
    assert served_model("user/m:7b") == "user/m:7b-gpuless"
    assert served_model("qwen2.5:1.5b-gpuless") == "qwen2.5:1.5b-gpuless"
    for name in ("qwen2.5:1.5b", "llama3", "user/m:7b-instruct-q4_K_M"):
        assert base_model(served_model(name)) == name  # the bench sizes a served model by its base
    assert base_model("smollm2:135m") == "smollm2:135m"
    spec = variants()["linux-v1"]
    assert spec.model_parameters() == {"num_ctx": 8192, "num_thread": 2}
    script = init_script(spec)
    assert script.startswith("ollama pull qwen2.5:1.5b && printf")
    assert "'PARAMETER num_thread 2'" in script and script.endswith("-f /tmp/Modelfile")
    document = yaml.safe_load(render_compose_yaml(spec))
    init = document["services"]["ollama-init"]
    assert init["depends_on"] == {"ollama": {"condition": "service_healthy"}}
    assert init["command"] == [script] and init["restart"] == "no"
    assert init["environment"]["OLLAMA_HOST"] == "ollama:11434"  # ports mode: the service name
    host = yaml.safe_load(render_compose_yaml(variants()["no-bridge"]))["services"]["ollama-init"]
    assert host["network_mode"] == "host" and host["environment"]["OLLAMA_HOST"] == "127.0.0.1:11434"


def test_an_unknown_model_says_no_memory_limit_was_set() -> None:
    machine = machine_from_profile(next(p for p in load_shipped_profiles() if p.name == "laptop-16gb-ddr5"))
    plan = plan_service(machine, load_catalog(), PlanRequest(model="mystery-model:3b"))
    assert plan.candidate is None and plan.spec.mem_limit_bytes is None
    assert any("no memory limit was set" in note for note in plan.notes)
    text = render_compose_yaml(plan.spec)
    assert "No memory limit: gpuless does not know the size of mystery-model:3b" in _flat(text)
    assert "mem_limit" not in yaml.safe_load(text)["services"]["ollama"]


def test_swappiness_comment_follows_the_cgroup_version() -> None:
    v1 = render_compose_yaml(variants()["linux-v1"])
    assert "Swap avoidance: this cgroup v1 engine" in _flat(v1) and "discards" not in v1


def test_linux_engine_gets_host_network_and_loopback_listen() -> None:
    spec = variants()["no-bridge"]
    service = yaml.safe_load(render_compose_yaml(spec))["services"]["ollama"]
    assert service["network_mode"] == "host"
    assert service["environment"]["OLLAMA_HOST"] == "127.0.0.1:11434"


def test_desktop_engine_publishes_on_loopback_and_listens_on_all_inside() -> None:
    spec = variants()["desktop"]
    service = yaml.safe_load(render_compose_yaml(spec))["services"]["ollama"]
    assert service["ports"] == ["127.0.0.1:11434:11434"]
    assert service["environment"]["OLLAMA_HOST"] == "0.0.0.0:11434"


def test_expose_publishes_on_all_addresses_with_a_loud_comment() -> None:
    text = render_compose_yaml(variants()["desktop-exposed"])
    service = yaml.safe_load(text)["services"]["ollama"]
    assert service["ports"] == ["0.0.0.0:11500:11434"]
    assert "EXPOSED" in text and "no authentication" in _flat(text)
    exposed_text = render_compose_yaml(variants()["linux-exposed"])
    assert yaml.safe_load(exposed_text)["services"]["ollama"]["ports"] == ["0.0.0.0:11434:11434"]
    assert "EXPOSED" in exposed_text
    assert "EXPOSED" not in render_compose_yaml(variants()["linux-v1"])
    exposed_host = build_spec(model="m:1b", engine=NO_BRIDGE, expose=True)
    assert (
        yaml.safe_load(render_compose_yaml(exposed_host))["services"]["ollama"]["environment"]["OLLAMA_HOST"]
        == "0.0.0.0:11434"
    )


def test_quantized_kv_cache_forces_flash_attention_and_says_so() -> None:
    spec = build_spec(model="m:1b", kv_cache_type="q8_0", flash_attention=False)
    assert spec.flash_attention and spec.environment()["OLLAMA_FLASH_ATTENTION"] == "1"
    assert any("flash attention turned on" in note for note in spec.adjustments)
    assert "Note: flash attention turned on" in _flat(render_compose_yaml(spec))
    with pytest.raises(UsageError, match="needs flash attention"):
        OllamaServiceSpec(model="m:1b", kv_cache_type="q4_0", flash_attention=False)


def test_cpus_and_memory_are_capped_at_the_engine() -> None:
    spec = build_spec(model="m:1b", engine=DESKTOP, cpus=12, mem_limit_bytes=32 * GIB)
    assert spec.cpus == 4.0 and spec.mem_limit_bytes == 8 * GIB
    assert spec.num_thread == 4
    assert len(spec.adjustments) == 2
    assert to_docker_kwargs(spec)["host_config"]["nano_cpus"] == 4_000_000_000


def test_fractional_cpus_become_nano_cpus_and_whole_threads() -> None:
    spec = build_spec(model="m:1b", cpus=1.5)
    assert to_docker_kwargs(spec)["host_config"]["nano_cpus"] == 1_500_000_000
    assert spec.num_thread == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"port": 0}, {"model": " "}, {"context_length": 10}, {"num_parallel": 0}, {"cpus": 0.001},
     {"mem_limit_bytes": 1024}, {"kv_cache_type": "q5_0"}, {"network": "bridge"}],
)  # fmt: skip
def test_invalid_specs_are_usage_errors(kwargs: dict[str, Any]) -> None:
    values: dict[str, Any] = {"model": "m:1b", **kwargs}
    with pytest.raises(UsageError):
        OllamaServiceSpec(**values)


def test_fingerprint_is_stable_and_tracks_container_shaping_fields() -> None:
    spec = variants()["linux-v1"]
    assert spec_fingerprint(spec) == spec_fingerprint(dataclasses.replace(spec))
    assert spec_fingerprint(spec) == to_docker_kwargs(spec)["labels"][LABEL_FINGERPRINT]
    # Comment-only fields do not change it ...
    assert spec_fingerprint(spec) == spec_fingerprint(
        dataclasses.replace(spec, adjustments=("x",), engine_label="y")
    )
    # ... everything the container is made of does.
    changes: list[dict[str, Any]] = [
        {"context_length": 4096}, {"port": 11500}, {"image": "other:1"}, {"cpus": 1.0},
        {"model": "other:1b"}, {"kv_cache_type": "q8_0"}, {"memlock_unlimited": True},
    ]  # fmt: skip
    for change in changes:
        assert spec_fingerprint(dataclasses.replace(spec, **change)) != spec_fingerprint(spec), change


def test_dropping_memlock_keeps_the_fingerprint_and_records_the_refusal() -> None:
    spec = variants()["memlock-forced-fa-off"]
    normal, reduced = to_docker_kwargs(spec), to_docker_kwargs(spec, drop_memlock=True)
    assert "ulimits" not in reduced["host_config"]
    assert reduced["labels"][LABEL_FINGERPRINT] == normal["labels"][LABEL_FINGERPRINT]
    assert reduced["labels"]["io.gpuless.refused"] == "memlock"


def test_spec_round_trips_through_its_label() -> None:
    for spec in variants().values():
        label = to_docker_kwargs(spec)["labels"][LABEL_SPEC]
        back = spec_from_json(label)
        assert spec_fingerprint(back) == spec_fingerprint(spec)
        assert spec_to_json(back) == label
    with pytest.raises(UsageError):
        spec_from_json("{not json")


# --- golden files: one per shipped hardware profile -------------------------------------------------

GOLDEN_DIR = paths.ROOT / "compose"
UPDATE_GOLDEN = os.environ.get("GPULESS_UPDATE_GOLDEN") == "1"


def golden_texts() -> dict[str, str]:
    """What ``compose/<profile>.yaml`` must contain: the recommendation's spec for each shipped profile."""
    catalog = load_catalog()
    texts = {}
    for profile in load_shipped_profiles():
        plan = plan_service(machine_from_profile(profile), catalog, PlanRequest())
        texts[f"{profile.name}.yaml"] = render_compose_yaml(plan.spec)
    return texts


def test_golden_files_are_current() -> None:
    """Regenerate with ``GPULESS_UPDATE_GOLDEN=1 pytest tests/core/compose/test_spec.py``."""
    expected = golden_texts()
    if UPDATE_GOLDEN:
        for stale in set(p.name for p in GOLDEN_DIR.glob("*.yaml")) - set(expected):
            (GOLDEN_DIR / stale).unlink()
        for name, text in expected.items():
            (GOLDEN_DIR / name).write_text(text, encoding="utf-8")
    present = sorted(p.name for p in GOLDEN_DIR.glob("*.yaml"))
    assert present == sorted(expected), "golden files and hardware profiles differ (GPULESS_UPDATE_GOLDEN=1)"
    for name, text in expected.items():
        assert (GOLDEN_DIR / name).read_text(encoding="utf-8") == text, (
            f"compose/{name} is out of date: GPULESS_UPDATE_GOLDEN=1 pytest tests/core/compose/test_spec.py"
        )


def test_golden_files_validate_and_ship_in_the_package(validator: jsonschema.protocols.Validator) -> None:
    shipped = importlib.resources.files("toolkit.compose")
    names = sorted(entry.name for entry in shipped.iterdir() if entry.name.endswith(".yaml"))
    assert names and "laptop-16gb-ddr5.yaml" in names
    for name in names:
        text = shipped.joinpath(name).read_text(encoding="utf-8")
        assert not list(validator.iter_errors(yaml.safe_load(text))), name
        read = read_compose_text(text)
        assert not read.edited and read.spec.mem_limit_bytes and read.spec.num_thread


def test_every_profile_publishes_on_loopback() -> None:
    """Profiles do not say whether the engine has a bridge network; a laptop's does, so ports."""
    texts = golden_texts()
    mac = yaml.safe_load(texts["apple-m2-16gb.yaml"])["services"]["ollama"]
    assert mac["ports"] == ["127.0.0.1:11434:11434"] and "network_mode" not in mac
    assert float(mac["cpus"]) <= 8  # never more than the Docker VM has
    linux = yaml.safe_load(texts["laptop-16gb-ddr5.yaml"])["services"]["ollama"]
    assert (
        linux["ports"] == ["127.0.0.1:11434:11434"] and linux["environment"]["OLLAMA_HOST"] == "0.0.0.0:11434"
    )
