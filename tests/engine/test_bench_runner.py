"""The benchmark method against the real llama.cpp engine: small runs, the concurrency sweep, and the
faults (server killed mid-run, unknown model, queue full, timeout) with partial results kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from toolkit.adapters.bench.history import History
from toolkit.adapters.bench.runner import BenchRunner
from toolkit.adapters.machine.probes import detect_machine
from toolkit.adapters.resources import load_catalog
from toolkit.core.bench.concurrency import concurrency_levels
from toolkit.core.bench.config import BenchConfig
from toolkit.core.bench.predict import make_predictor, model_step_estimate
from toolkit.core.bench.workload import build_messages, document_text
from toolkit.core.target import check_target
from toolkit.errors import (
    ModelNotFoundError,
    RequestTimeoutError,
    StreamError,
    UnsafeTargetError,
    UsageError,
)

MODEL = "smollm2:135m"


def _config(url: str, **changes: Any) -> BenchConfig:
    base: dict[str, Any] = {
        "model": MODEL,
        "url": url,
        "reps": 2,
        "num_predict": 24,
        "shapes": ("chat",),
        "concurrency": (),
        "max_seconds": 300.0,
    }
    return BenchConfig(**{**base, **changes})


# --- pure parts -----------------------------------------------------------------------------------


def test_only_loopback_unless_the_user_typed_the_url() -> None:
    assert check_target("127.0.0.1:11434", explicit=False) == "http://127.0.0.1:11434"
    assert check_target("http://localhost:11434/", explicit=False) == "http://localhost:11434"
    assert check_target("http://[::1]:11434", explicit=False) == "http://[::1]:11434"
    with pytest.raises(UnsafeTargetError, match="not a loopback"):
        check_target("http://172.17.0.2:11434", explicit=False)  # a Docker bridge from a config
    with pytest.raises(UnsafeTargetError):
        check_target("http://ollama.lan:11434", explicit=False)
    assert check_target("http://172.17.0.2:11434", explicit=True) == "http://172.17.0.2:11434"
    with pytest.raises(UsageError, match="not a server URL"):
        check_target("ftp://127.0.0.1", explicit=True)
    with pytest.raises(UnsafeTargetError):
        BenchRunner(BenchConfig(model=MODEL, url="http://10.0.0.5:11434"))


def test_prompts_are_unique_and_the_document_is_fixed() -> None:
    assert document_text() == document_text()
    assert 780 <= len(document_text().split()) <= 900
    a, b = build_messages("chat", "n1", ""), build_messages("chat", "n2", "")
    assert a != b and a[0]["content"].startswith("Request n1")
    assert concurrency_levels(4) == (1, 2, 4) and concurrency_levels(6) == (1, 2, 4, 6)


# --- real engine ----------------------------------------------------------------------------------


@pytest.mark.engine
async def test_quick_plan_warms_up_briefly_and_keeps_the_document_short(ollama_server: Any) -> None:
    """The quick plan's time goes to measuring: an 8-token warm-up and a ~250-token document."""
    from toolkit.core.bench.schedule import QUICK
    from toolkit.core.bench.workload import WARMUP_TOKENS

    lines: list[str] = []
    config = _config(
        ollama_server.url, reps=1, num_predict=16, shapes=("document",), document_words=QUICK.document_words
    )
    machine = detect_machine(docker=False, measure_bandwidth=False)
    catalog = load_catalog()
    runner = BenchRunner(config, machine=machine, catalog=catalog, progress=lines.append)
    result = await runner.run()
    assert f"warm-up done ({WARMUP_TOKENS} tokens, excluded)" in lines
    document = result.shapes[0]
    assert document.prompt_tokens is not None and 150 <= document.prompt_tokens <= 400
    assert document.output_tokens == 16
    assert result.cold_load_s is not None and result.cold_load_s > 0  # timed even when not reported
    # The Model step's figures for the tag, and the file the test server really holds (Q4_1, not F16).
    spec, variant = catalog.find(MODEL)
    assert result.model_step == model_step_estimate(catalog, spec, variant, machine)
    assert result.served_file is not None and result.served_file.startswith("Q4_1")


def test_the_benchmark_shows_the_model_steps_prediction() -> None:
    """Same model, same machine: the Model step's row, the bench's reference line and the bench's
    predictor at the Model step's inputs give the same figures."""
    from toolkit.adapters.resources import resolve_profile
    from toolkit.core.bench.verdict import model_step_lines
    from toolkit.core.machine.profile import machine_from_profile
    from toolkit.core.recommend.pick import DEFAULT_PROMPT_TOKENS, recommend
    from toolkit.tui.screens.model import candidate_details

    machine = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))
    catalog = load_catalog()
    spec, variant = catalog.find("qwen2.5:1.5b")
    rec = recommend(machine, catalog, only=((spec, variant),))  # what the Model step runs for a row
    shown = candidate_details(rec, rec.candidates[0])
    step = model_step_estimate(catalog, spec, variant, machine)
    assert step == rec.candidates[0].estimate
    decode, prefill, ttft = make_predictor(spec, variant, machine)(DEFAULT_PROMPT_TOKENS, 1)
    assert (decode, prefill, ttft) == (step.decode_tps, step.prefill_tps, step.ttft_s)
    line = model_step_lines("qwen2.5:1.5b", step, None)[0]
    assert f"decode {step.decode_tps:.1f} tok/s" in line and f"{step.decode_tps:.1f}" in shown
    assert f"TTFT {step.ttft_s:.2f} s" in line
    assert len(model_step_lines("qwen2.5:1.5b", step, "Q4_1, 0.09 GB")) == 2


@pytest.mark.engine
async def test_small_run_and_concurrency_sweep(
    ollama_server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = ollama_server_factory(num_parallel=2)
    lines: list[str] = []
    with History(tmp_path / "h.sqlite3") as history:
        runner = BenchRunner(
            _config(server.url, shapes=("chat", "document"), concurrency=(1, 2)),
            history=history,
            machine=detect_machine(docker=False, measure_bandwidth=False),
            progress=lines.append,
        )
        result = await runner.run()
        run = history.get_run(result.run_id or 0)
        stored = history.requests(run.id)

    assert result.status == "complete" and run.status == "complete"
    assert [s.shape for s in result.shapes] == ["chat", "document"]
    chat, document = result.shapes
    assert chat.requests == 2 and chat.client_decode_tps is not None and chat.server_decode_tps is not None
    # The client's rate is the server's own timing of the same answers, at whatever speed this machine runs.
    assert 0.5 < chat.client_decode_tps.median / chat.server_decode_tps.median < 2
    assert chat.output_tokens == 24
    # The document shape is ~1k tokens and each prompt was unique (no cache hit inflating prefill).
    assert document.prompt_tokens is not None and 800 <= document.prompt_tokens <= 1300
    assert [lv.streams for lv in result.concurrency] == [1, 2]
    two = result.concurrency[1]
    assert two.requests == 2 and two.output_tokens == 48 and two.aggregate_tps > 0
    assert result.num_parallel in (1, 2)
    assert set(result.users) == {15.0, 30.0, 70.0}
    # 2 + 2 shape requests + 1 + 2 sweep requests, each stored as it finished (warm-up excluded).
    assert len(stored) == 7 and all(r["ok"] for r in stored)
    assert run.quantization and run.engine_version and run.machine is not None
    # Predicted vs measured: the estimator was asked about this model on this machine.
    metrics = [c.metric for c in result.comparisons]
    # the TTFT row names the prompt it prefilled: the document's, as the server counted it
    ttft_row = f"TTFT, {document.prompt_tokens:.0f}-token prompt"
    assert metrics[:3] == ["decode tok/s", "prefill tok/s", ttft_row]
    assert all(c.predicted is not None and c.error_pct is not None for c in result.comparisons)
    # The measured aggregate is tokens over wall time, prefill included; so is its prediction.
    by_metric = {c.metric: c for c in result.comparisons}
    decode_predicted = by_metric["decode tok/s"].predicted
    one_stream = by_metric["aggregate tok/s @ 1 stream"].predicted
    assert decode_predicted is not None and one_stream is not None and one_stream < decode_predicted
    assert any("warm-up" in line for line in lines)


@pytest.mark.engine
async def test_openai_protocol_run(ollama_server: Any) -> None:
    seen: list[tuple[str, str, int, float]] = []
    result = await BenchRunner(
        _config(ollama_server.url, api="openai", reps=1),
        on_request=lambda phase, shape, streams, m: seen.append((phase, shape, streams, m["ttft_s"])),
    ).run()
    assert result.status == "complete" and result.run_id is None
    # Without a history store the live callback still hears about every finished request.
    assert ("shape", "chat", 1) in [entry[:3] for entry in seen]
    assert all(ttft > 0 for *_, ttft in seen)
    chat = result.shapes[0]
    assert chat.client_decode_tps is not None and chat.server_decode_tps is None
    assert chat.output_tokens == 24


@pytest.mark.engine
async def test_server_killed_mid_run_keeps_partial_results(
    ollama_server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = ollama_server_factory()
    loop = asyncio.get_running_loop()

    def progress(line: str) -> None:
        if line.startswith("chat 1/"):  # first measured request done: kill during the second
            loop.call_later(0.3, server.kill)

    with History(tmp_path / "h.sqlite3") as history:
        runner = BenchRunner(_config(server.url, reps=3, num_predict=400), history=history, progress=progress)
        with pytest.raises(StreamError, match="broke mid-answer"):
            await runner.run()
        run = history.list_runs()[0]
        stored = history.requests(run.id)
    assert runner.result.status == "incomplete"
    assert run.status == "incomplete" and run.error and "broke" in run.error
    assert run.requests == 1 and run.summary is not None
    assert [r["ok"] for r in stored] == [1, 0]  # the finished request and the broken one


@pytest.mark.engine
async def test_unknown_model_stores_nothing(ollama_server: Any, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        runner = BenchRunner(_config(ollama_server.url, model="no-such-model:7b"), history=history)
        with pytest.raises(ModelNotFoundError, match="no-such-model"):
            await runner.run()
        assert history.list_runs() == []
    assert runner.result.status == "failed"


@pytest.mark.engine
async def test_queue_full_marks_the_level_saturated(
    ollama_server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = ollama_server_factory(num_parallel=1, max_queue=1)
    with History(tmp_path / "h.sqlite3") as history:
        runner = BenchRunner(_config(server.url, reps=1, num_predict=64, concurrency=(4, 8)), history=history)
        result = await runner.run()
        run = history.list_runs()[0]
        stored = history.requests(run.id)
    # 4 streams, 1 running + 1 queued: the others are refused with 503. That is the sweep's finding:
    # the level is recorded as saturated (holding no users), the sweep stops, and the run completes.
    assert result.status == "complete" and result.stopped_by == "saturated"
    [level] = result.concurrency
    assert level.streams == 4 and level.saturated and level.errors == 2 and level.requests == 2
    assert all(n == 0 for n in result.users.values())
    refused = [r for r in stored if not r["ok"]]
    assert len(refused) == 2 and all("busy" in r["error"] for r in refused)
    assert run.status == "complete" and run.requests == 1 + 2  # the chat rep and the two that ran


@pytest.mark.engine
async def test_timeout_is_reported(ollama_server: Any) -> None:
    # The model is unloaded first, so the request must wait for a load (a llama.cpp process started):
    # longer than 20 ms on a fast machine too, where a loaded model might answer within it.
    async with httpx.AsyncClient(timeout=60) as http:
        unload = {"model": MODEL, "keep_alive": 0}
        unloaded = await http.post(f"{ollama_server.url}/api/generate", json=unload)
        assert unloaded.status_code == 200
    runner = BenchRunner(_config(ollama_server.url, shapes=("document",), timeout=0.02, warmup=False))
    with pytest.raises(RequestTimeoutError, match="did not answer in time"):
        await runner.run()
    assert runner.result.status == "failed"


@pytest.mark.engine
async def test_request_bound_stops_the_plan(ollama_server: Any) -> None:
    result = await BenchRunner(_config(ollama_server.url, reps=5, max_requests=3, concurrency=(1, 2))).run()
    assert result.status == "complete" and result.stopped_by == "max_requests"
    assert result.shapes[0].requests == 2 and result.concurrency == ()  # warm-up + 2 reps = 3
