"""The runner's command line read back, by Ollama version (core/compose/verify_runner.py cites the source)."""

from __future__ import annotations

from toolkit.core.compose.verify_runner import parse_runner_args, slots_row, threads_row

V0114 = "/usr/bin/ollama runner --model /m --ctx-size 8192 --batch-size 512 --threads 4 --parallel 2 --port 1"
V024 = "/usr/bin/ollama runner --ollama-engine --model /root/.ollama/models/blobs/sha256-ab --port 41231"
V030 = "/usr/lib/ollama/llama-server -m /m -c 8192 -np 1 --flash-attn auto --cache-type-k q8_0 --port 9"


def test_runner_settings_are_read_where_the_version_shows_them() -> None:
    old = parse_runner_args(f"/bin/ollama serve\n{V0114}\n")
    assert old is not None and (old.threads, old.ctx_size, old.parallel) == (4, 8192, 2)
    hidden = parse_runner_args(f"/bin/ollama serve\n{V024}\n")
    assert hidden is not None and not hidden.on_command_line and hidden.threads is None
    actual, status, why = threads_row(None, hidden, "4", "0.12.3")
    assert (actual, status) == ("-", "unknown") and "POST /load" in why and "no model loaded" not in why
    assert "POST /load" in slots_row(2, hidden, "0.12.3")[2]
    new = parse_runner_args(V030)
    assert new is not None and (new.threads, new.parallel, new.flash_attn, new.cache_type) == (
        None,
        1,
        "auto",
        "q8_0",
    )
    # Ollama forced one slot (server/sched.go:497-509): the runner's -np is the truth, not the variable.
    assert slots_row(4, new, "0.32.15")[:2] == ("1", "ignored")
    assert slots_row(1, new, "0.32.15")[:2] == ("1", "applied")
    assert threads_row(None, None, None, None)[1:] == ("unknown", "no model loaded")
