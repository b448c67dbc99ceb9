"""tune writes its winner into the user's compose.yaml in place: the tuned lines change, every other byte
of the user's stays (extra variables, comments, other services, line endings), the result reads back as
the winner, and a file that cannot say the winner is refused before anything is written."""

from __future__ import annotations

import difflib
from dataclasses import replace

import pytest

from toolkit.core.compose.edit import edit_in_place
from toolkit.core.compose.read import read_compose_text
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec, build_spec
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import UsageError

LINUX = DockerEngineInfo(
    reachable=True, os_type="linux", ncpu=8, mem_total_bytes=16 * 1024**3, has_bridge=False
)
MB = 1024**2


def _start(**overrides: object) -> OllamaServiceSpec:
    values: dict[str, object] = {"model": "qwen2.5:1.5b", "mem_limit_bytes": 4096 * MB, "cpus": 4.0}
    values.update(overrides)
    return build_spec(engine=LINUX, **values)  # type: ignore[arg-type]


def _edited(text: str) -> str:
    """The user's file: an extra variable with its comment, and a web UI whose `mem_limit` line is the
    same as the Ollama service's."""
    keep_alive = '      OLLAMA_KEEP_ALIVE: "30m"\n'
    assert keep_alive in text
    return (
        text.replace(
            keep_alive, keep_alive + '      # my proxy\n      HTTPS_PROXY: "http://127.0.0.1:3128"\n'
        )
        + '  # my web UI\n  webui:\n    image: "open-webui:main"\n    mem_limit: "4096m"\n'
    )


def _winner(spec: OllamaServiceSpec) -> OllamaServiceSpec:
    return replace(
        spec,
        num_parallel=4,
        num_thread=2,
        context_length=8192,
        kv_cache_type="q8_0",
        mem_limit_bytes=6144 * MB,
    )


def test_only_the_tuned_lines_change_and_the_result_reads_back_as_the_winner() -> None:
    start = _start()
    text = _edited(render_compose_yaml(start))
    read = read_compose_text(text)
    new = edit_in_place(text, read.spec, _winner(read.spec))
    again = read_compose_text(new)
    assert again.spec.num_parallel == 4 and again.spec.kv_cache_type == "q8_0"
    assert again.spec.context_length == 8192 and again.spec.num_thread == 2
    assert again.spec.mem_limit_bytes == 6144 * MB
    assert again.unsupported == read.unsupported  # the user's variable, still there, still named
    old_lines, new_lines = text.splitlines(), new.splitlines()
    # The lines that differ (a knob's comment may grow or shrink with its value: q8_0's says more than f16's)
    changed = [
        line
        for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes()
        if tag != "equal"
        for line in old_lines[a0:a1] + new_lines[b0:b1]
    ]
    tuned = ("OLLAMA_", "mem_limit", "memswap_limit", "io.gpuless.", "num_thread", "num_ctx", "#")
    assert changed and all(any(key in line for key in tuned) for line in changed), changed
    assert new.endswith('  webui:\n    image: "open-webui:main"\n    mem_limit: "4096m"\n')  # not the UI's
    assert "# my proxy" in new and "# my web UI" in new


def test_line_endings_and_the_header_are_the_users() -> None:
    start = _start()
    text = render_compose_yaml(replace(start, engine_label="my laptop")).replace("\n", "\r\n")
    read = read_compose_text(text)
    new = edit_in_place(text, read.spec, replace(read.spec, num_parallel=2))
    assert "\n" not in new.replace("\r\n", "")
    assert "my laptop" in new and "unknown engine" not in new
    assert read_compose_text(new).spec.num_parallel == 2


def test_labels_a_hand_edit_left_stale_are_rewritten_by_their_key() -> None:
    start = _start()
    text = render_compose_yaml(start).replace('OLLAMA_NUM_PARALLEL: "1"', 'OLLAMA_NUM_PARALLEL: "3"')
    read = read_compose_text(text)
    assert read.spec.num_parallel == 3
    new = edit_in_place(text, read.spec, replace(read.spec, num_parallel=4))
    assert read_compose_text(new).spec == replace(read.spec, num_parallel=4, adjustments=())
    assert f'io.gpuless.fingerprint: "{_fingerprint(replace(read.spec, num_parallel=4))}"' in new


def _fingerprint(spec: OllamaServiceSpec) -> str:
    from toolkit.core.compose.docker_args import spec_fingerprint

    return spec_fingerprint(spec)


def test_a_file_that_cannot_say_the_winner_is_refused() -> None:
    start = _start()
    text = render_compose_yaml(start).replace('      OLLAMA_NUM_PARALLEL: "1"\n', "")
    read = read_compose_text(text)
    with pytest.raises(UsageError) as caught:
        edit_in_place(text, read.spec, replace(read.spec, num_parallel=4))
    assert "cannot say the tuned settings" in caught.value.message
    assert "environment.OLLAMA_NUM_PARALLEL removed" in caught.value.message
