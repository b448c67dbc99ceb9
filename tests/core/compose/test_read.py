"""Reading compose.yaml back: the file gpuless wrote round-trips, the user's edits are started, and what
`gpuless up` cannot apply is named (edits made as a user makes them: on the text, comments kept)."""

from __future__ import annotations

import importlib.resources

import pytest
import yaml

from toolkit.core.compose.docker_args import spec_fingerprint, spec_to_json
from toolkit.core.compose.read import read_compose_text
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec, build_spec
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import UsageError

#: A rootful Linux engine with no bridge network (like dockerd --bridge=none): host networking by default.
LINUX = DockerEngineInfo(
    reachable=True, os_type="linux", ncpu=8, mem_total_bytes=16 * 1024**3, has_bridge=False
)


def _linux_spec(**overrides: object) -> OllamaServiceSpec:
    values: dict[str, object] = {"model": "qwen2.5:1.5b", "mem_limit_bytes": 4 * 1024**3, "cpus": 4.0}
    values.update(overrides)
    return build_spec(engine=LINUX, **values)  # type: ignore[arg-type]


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    "spec",
    [
        _linux_spec(),
        _linux_spec(network="ports", port=11500),
        _linux_spec(expose=True),
        _linux_spec(mem_limit_bytes=None, cpus=None, memlock=True),
        _linux_spec(kv_cache_type="q8_0", num_parallel=3, context_length=8192, keep_alive="-1"),
    ],
    ids=["host", "ports", "exposed", "unlimited", "q8-kv"],
)
def test_what_gpuless_wrote_reads_back_unchanged(spec: OllamaServiceSpec) -> None:
    read = read_compose_text(render_compose_yaml(spec))
    assert spec_to_json(read.spec) == spec_to_json(spec)  # every field but the header comment's
    assert not read.edited and read.edits == () and read.unsupported == ()


def test_every_shipped_example_reads_back_unchanged() -> None:
    shipped = importlib.resources.files("toolkit.compose")
    for entry in shipped.iterdir():
        if entry.name.endswith(".yaml"):
            read = read_compose_text(entry.read_text(encoding="utf-8"))
            assert not read.edited, (entry.name, read.edits, read.unsupported)


def test_edits_are_what_up_starts() -> None:
    spec = _linux_spec(memlock=True)
    text = render_compose_yaml(spec)
    text = _edit(
        text, 'OLLAMA_CONTEXT_LENGTH: "4096"', "OLLAMA_CONTEXT_LENGTH: 8192"
    )  # an int, as people type
    text = _edit(text, 'OLLAMA_NUM_PARALLEL: "1"', 'OLLAMA_NUM_PARALLEL: "2"')
    text = _edit(text, 'mem_limit: "4g"', 'mem_limit: "6g"')
    text = _edit(text, 'memswap_limit: "4g"', "memswap_limit: 6g")
    text = _edit(text, "cpus: 4.0", "cpus: 3")
    text = _edit(text, 'image: "ollama/ollama:latest"', "image: ollama/ollama:0.12.3")
    text = _edit(text, 'interval: "5s"', "interval: 1m30s")
    text = _edit(text, "    ulimits:\n      memlock:\n        soft: -1\n        hard: -1\n", "")
    read = read_compose_text(text)
    new = read.spec
    assert (new.context_length, new.num_parallel, new.cpus, new.image) == (
        8192,
        2,
        3.0,
        "ollama/ollama:0.12.3",
    )
    assert new.mem_limit_bytes == 6 * 1024**3 and new.memswap_limit_bytes == 6 * 1024**3
    assert new.health_interval_s == 90 and new.memlock_unlimited is False
    assert read.unsupported == ()
    assert "context_length: 4096 → 8192" in read.edits and "mem_limit_bytes: 4 GiB → 6 GiB" in read.edits
    assert len(read.edits) == 7
    # A changed file is a changed container: `up` sees another fingerprint and recreates it.
    assert spec_fingerprint(new) != spec_fingerprint(spec)


def test_list_form_environment_and_long_syntax_ports_are_read() -> None:
    document = yaml.safe_load(render_compose_yaml(_linux_spec(network="ports")))
    service = document["services"]["ollama"]
    env = {**service["environment"], "OLLAMA_KEEP_ALIVE": "-1"}
    service["environment"] = [f"{key}={value}" for key, value in env.items()]
    service["ports"] = [{"target": 11434, "published": 11600, "host_ip": "127.0.0.1"}]
    read = read_compose_text(yaml.safe_dump(document))
    assert read.spec.keep_alive == "-1" and read.spec.port == 11600 and not read.spec.expose
    assert read.unsupported == ()


def test_exposing_by_hand_is_seen_as_exposing() -> None:
    host = render_compose_yaml(_linux_spec())
    assert read_compose_text(_edit(host, '"127.0.0.1:11434"', '"0.0.0.0:11434"')).spec.expose
    ports = render_compose_yaml(_linux_spec(network="ports"))
    published_everywhere = read_compose_text(_edit(ports, '"127.0.0.1:11434:11434"', '"11434:11434"'))
    assert published_everywhere.spec.expose and "expose: False → True" in published_everywhere.edits


def test_what_up_cannot_apply_is_named() -> None:
    text = render_compose_yaml(_linux_spec())
    text = _edit(text, "    environment:\n", "    environment:\n      HTTPS_PROXY: http://proxy:3128\n")
    text = _edit(text, "    restart:", "    devices:\n      - /dev/dri\n    restart:")
    text = _edit(text, 'memswap_limit: "4g"', 'memswap_limit: "8g"')
    text = _edit(text, 'test: ["CMD", "ollama", "list"]', 'test: ["CMD", "ollama", "--version"]')
    text = _edit(text, "    labels:\n", '    labels:\n      team: "ml"\n')
    text = _edit(text, '      OLLAMA_KEEP_ALIVE: "30m"\n', "")
    read = read_compose_text(text)
    assert read.edited and read.edits == ()
    named = " | ".join(read.unsupported)
    for part in ("environment.HTTPS_PROXY", "devices", "memswap_limit", "healthcheck.test", "labels.team"):
        assert part in named
    assert "environment.OLLAMA_KEEP_ALIVE removed (gpuless up still sets OLLAMA_KEEP_ALIVE=30m)" in named


def test_a_removed_restart_policy_is_compose_default() -> None:
    text = render_compose_yaml(_linux_spec())
    read = read_compose_text(_edit(text, '    restart: "unless-stopped"\n', ""))
    assert read.spec.restart == "no" and read.edits == ("restart: unless-stopped → no",)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'OLLAMA_CONTEXT_LENGTH: "4096"',
            'OLLAMA_CONTEXT_LENGTH: "lots"',
            "OLLAMA_CONTEXT_LENGTH: expected a whole",
        ),
        ('OLLAMA_FLASH_ATTENTION: "1"', 'OLLAMA_FLASH_ATTENTION: "0"', "needs flash attention"),
        ('OLLAMA_KV_CACHE_TYPE: "q8_0"', 'OLLAMA_KV_CACHE_TYPE: "q2"', "unknown KV cache type"),
        ('network_mode: "host"', 'network_mode: "bridge"', "network_mode: 'bridge' is not supported"),
        ('interval: "5s"', 'interval: "soon"', "healthcheck.interval: cannot read the duration"),
        ('mem_limit: "4g"', 'mem_limit: "plenty"', "cannot read the size"),
        ('OLLAMA_HOST: "127.0.0.1:11434"', 'OLLAMA_HOST: "127.0.0.1:99999"', "out of range"),
    ],
)
def test_bad_edits_are_refused_with_the_key_to_fix(old: str, new: str, message: str) -> None:
    text = render_compose_yaml(_linux_spec(kv_cache_type="q8_0"))
    with pytest.raises(UsageError, match=message):
        read_compose_text(_edit(text, old, new))


def test_files_gpuless_did_not_write_are_refused() -> None:
    with pytest.raises(UsageError, match="not generated by gpuless"):
        read_compose_text("services:\n  ollama:\n    image: ollama/ollama\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        read_compose_text("services: [\n")
    with pytest.raises(UsageError, match="no services"):
        read_compose_text("volumes: {}\n")
