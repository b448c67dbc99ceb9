"""A stored run read back: power source, model name and tag, damaged summaries, and two runs compared."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.builders import laptop
from toolkit.core.bench.run import RunRow, clean_summary, compare_runs, median_of, power_source, split_model
from toolkit.core.machine.hardware import PowerInfo


def test_power_source_names_mains_battery_and_unknown() -> None:
    on_battery = laptop()
    assert power_source(on_battery) == "battery"
    assert power_source(replace(on_battery, power=PowerInfo(has_battery=True, on_ac=True))) == "ac"
    assert power_source(replace(on_battery, power=PowerInfo(has_battery=False, on_ac=None))) == "no battery"
    assert power_source(replace(on_battery, power=PowerInfo(has_battery=True, on_ac=None))) == "unknown"
    assert power_source(None) == "unknown"


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("smollm2:135m", ("smollm2", "135m")),
        ("smollm2", ("smollm2", "latest")),
        ("hf.co/org/model:Q4_K_M", ("hf.co/org/model", "Q4_K_M")),
        ("registry:5000/org/model", ("registry:5000/org/model", "latest")),
    ],
)
def test_split_model(name: str, split: tuple[str, str]) -> None:
    assert split_model(name) == split


def test_clean_summary_drops_rows_without_their_key_and_says_so() -> None:
    damaged: list[str] = []
    summary = {
        "shapes": [{"shape": "chat"}, {"shape": 3}, "junk"],
        "concurrency": [{"streams": 1}],
        "num_parallel": 2,
    }
    out = clean_summary(summary, damaged)
    assert out == {"shapes": [{"shape": "chat"}], "concurrency": [{"streams": 1}], "num_parallel": 2}
    assert damaged == ["summary.shapes"]
    damaged.clear()
    assert clean_summary({"shapes": "x"}, damaged) == {"shapes": [], "concurrency": []}
    assert damaged == ["summary.shapes"]
    assert clean_summary(None, damaged) is None


def test_median_of_reads_numbers_only() -> None:
    assert median_of({"median": 4}) == 4.0
    assert median_of({"median": True}) is None
    assert median_of({"median": "4"}) is None
    assert median_of(None) is None


def _row(summary: dict[str, Any] | None) -> RunRow:
    return RunRow(
        id=1, started_at="t", finished_at=None, status="complete", model="m", tag="1b", quantization=None,
        engine_version=None, api="ollama", url="u", power_source="ac", settings={}, machine=None,
        predicted=None, summary=summary, error=None, requests=0,
    )  # fmt: skip


def test_compare_runs_over_what_both_measured() -> None:
    a = _row({
        "shapes": [{"shape": "chat", "client_decode_tps": {"median": 50.0}, "ttft_s": {"median": 0.5}},
                   {"shape": "document", "client_decode_tps": {"median": 40.0}}],
        "concurrency": [{"streams": 1, "aggregate_tps": 50.0}, {"streams": 2, "aggregate_tps": 80.0}],
    })  # fmt: skip
    b = _row({
        "shapes": [{"shape": "chat", "client_decode_tps": {"median": 55.0}, "ttft_s": {"median": 0.4}}],
        "concurrency": [{"streams": 2, "aggregate_tps": 60.0}],
    })  # fmt: skip
    rows = {r["metric"]: r for r in compare_runs(a, b)}
    assert rows["chat decode tok/s (median)"]["change_pct"] == pytest.approx(10.0)
    assert rows["chat TTFT s (median)"]["change_pct"] == pytest.approx(-20.0)
    # Measured by one run only: the document shape and the 1-stream level are left out.
    assert not [m for m in rows if m.startswith("document")]
    assert [m for m in rows if "aggregate" in m] == ["2 streams aggregate tok/s"]
    assert rows["2 streams aggregate tok/s"]["change_pct"] == pytest.approx(-25.0)
    # A figure one run lacks has no change.
    assert rows["chat prompt tok/s (median)"]["change_pct"] is None
    assert compare_runs(_row(None), b) == [] and _row(None).name == "m:1b"
