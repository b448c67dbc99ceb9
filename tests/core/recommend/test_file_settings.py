"""What a plan keeps of the user's compose file, and what the user's settings change over it."""

from __future__ import annotations

from dataclasses import replace

from toolkit.core.compose.spec import build_spec
from toolkit.core.recommend.file_settings import (
    UNCHANGED,
    ServerSettings,
    file_kept,
    request_over,
    spec_changes,
)
from toolkit.core.recommend.plan import PlanRequest
from toolkit.core.units import GIB

FILE = replace(
    build_spec(
        model="qwen2.5:1.5b", port=38434, context_length=8192, num_parallel=2, mem_limit_bytes=6 * GIB
    ),
    kv_cache_type="q8_0",
    expose=True,
    image="ollama/ollama:0.12.3",
    container_name="team-ollama",
    volume_name="team-models",
    keep_alive="1h",
)


def test_the_files_own_model_keeps_every_value_the_file_sized() -> None:
    request = request_over(PlanRequest(model="qwen2.5:1.5b"), FILE, UNCHANGED)
    assert (request.port, request.users, request.expose, request.image) == (38434, 2, True, FILE.image)
    names = (request.container_name, request.volume_name, request.keep_alive)
    assert names == ("team-ollama", "team-models", "1h")
    assert (request.context_length, request.kv_cache_type, request.mem_limit_bytes) == (8192, "q8_0", 6 * GIB)
    assert file_kept(FILE, "qwen2.5:1.5b", UNCHANGED)


def test_another_model_keeps_the_place_but_not_the_sizes() -> None:
    request = request_over(PlanRequest(model="gemma3:1b", context_length=4096), FILE, UNCHANGED)
    assert (request.port, request.users, request.container_name) == (38434, 2, "team-ollama")
    assert (request.context_length, request.kv_cache_type, request.mem_limit_bytes) == (4096, "f16", None)
    assert not file_kept(FILE, "gemma3:1b", UNCHANGED)


def test_settings_win_over_the_file_and_new_users_resize_the_cap() -> None:
    changed = ServerSettings(port=38435, users=4, expose=False)
    request = request_over(PlanRequest(model="qwen2.5:1.5b"), FILE, changed)
    assert (request.port, request.users, request.expose) == (38435, 4, False)
    assert request.mem_limit_bytes is None  # sized for 2 users: the plan sizes it again for 4
    capped = request_over(PlanRequest(model="qwen2.5:1.5b"), FILE, ServerSettings(mem_limit_gib=3.5))
    assert capped.mem_limit_bytes == int(3.5 * GIB) and capped.users == 2
    assert not file_kept(FILE, "qwen2.5:1.5b", changed)
    assert file_kept(FILE, "qwen2.5:1.5b", ServerSettings(port=38434, users=2))  # the file's own values


def test_with_no_file_only_the_settings_apply() -> None:
    request = request_over(PlanRequest(model="gemma3:1b", port=11434), None, ServerSettings(users=3))
    assert (request.port, request.users, request.expose) == (11434, 3, False)
    assert not file_kept(None, "gemma3:1b", UNCHANGED)


def test_changes_are_said_in_the_settings_words() -> None:
    new = replace(FILE, port=38435, mem_limit_bytes=None, expose=False)
    assert spec_changes(FILE, new) == (
        "port 38434 → 38435",
        "memory cap 6 GiB → sized from the estimate",
        "listens on the LAN → this machine only",
    )
    assert spec_changes(FILE, FILE) == ()
