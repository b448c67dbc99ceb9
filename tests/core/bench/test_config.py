"""A benchmark's config and result as the runner, the front ends and the history read them."""

from __future__ import annotations

import json

from toolkit.core.bench.compare import compare
from toolkit.core.bench.config import BenchConfig, BenchResult
from toolkit.core.bench.metrics import RequestTrace, ServerTimings, shape_result


def test_options_put_the_fixed_sampling_over_the_load_options() -> None:
    config = BenchConfig(
        model="m", url="u", load_options={"num_ctx": 8192, "num_thread": 2, "seed": 7}, num_predict=16
    )
    # The run's seed, temperature and answer length win over a load option of the same name.
    assert config.options() == {
        "num_ctx": 8192,
        "num_thread": 2,
        "seed": 42,
        "temperature": 0.0,
        "num_predict": 16,
    }
    assert config.context() == 8192


def test_context_defaults_to_4096_for_a_missing_or_bad_num_ctx() -> None:
    assert BenchConfig(model="m", url="u").context() == 4096
    assert BenchConfig(model="m", url="u", load_options={"num_ctx": 0}).context() == 4096
    assert BenchConfig(model="m", url="u", load_options={"num_ctx": "8192"}).context() == 4096


def test_config_to_dict_is_json_with_every_field() -> None:
    config = BenchConfig(model="m", url="u", load_options={"num_ctx": 2048})
    out = json.loads(json.dumps(config.to_dict()))
    assert set(out) == set(BenchConfig.__dataclass_fields__)
    assert out["load_options"] == {"num_ctx": 2048} and out["concurrency"] == [1, 2, 4]


def test_result_to_dict_holds_the_summary_and_its_own_columns() -> None:
    timings = ServerTimings(prompt_eval_count=30, eval_count=5, eval_duration_ns=100_000_000)
    shape = shape_result("chat", [RequestTrace(0.0, (0.1, 0.2, 0.3, 0.4, 0.5), 0.5, timings)])
    result = BenchResult(
        run_id=3,
        status="incomplete",
        model="m:1b",
        api="ollama",
        url="u",
        shapes=(shape,),
        users={70.0: 2, 30.0: 4},
        comparisons=(compare("decode tok/s", "chat", 10.0, 8.0),),
        stopped_by="max_seconds",
        error="stopped",
    )
    out = json.loads(json.dumps(result.to_dict()))
    assert out["users_per_grade"] == {"70": 2, "30": 4}
    assert out["shapes"][0]["shape"] == "chat" and out["model_step"] is None
    assert out["comparisons"][0]["metric"] == "decode tok/s"
    assert (out["status"], out["stopped_by"], out["error"]) == ("incomplete", "max_seconds", "stopped")
    # The summary is what the history stores: the run's identity columns stay out of it.
    assert "run_id" not in result.summary() and "status" not in result.summary()
