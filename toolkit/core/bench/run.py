"""A stored benchmark run as the rest of gpuless reads it, and the pure comparisons over runs.

``toolkit.adapters.bench.history`` keeps runs in SQLite; what a run *is* (``RunRow``), which power source it
records, how a model name splits into name and tag, which parts of a stored summary can be trusted, and
how two runs compare are questions about data, not about the store, so they live here, testable without
a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from toolkit.core.bench.concurrency import streams_label
from toolkit.core.machine.hardware import Machine

Status = Literal["complete", "incomplete", "failed"]

#: How the error of a run the user stopped (esc in the wizard, Ctrl-C or a signal in the CLI) begins. The
#: store keeps the status ``incomplete`` (``failed`` when nothing finished) and this error; readers show
#: "cancelled" from it (``status_label``). Runs stored before this wording say "interrupted".
CANCELLED = "cancelled"
_CANCEL_PREFIXES = (CANCELLED, "interrupted")


def cancel_message(reason: str, finished: int) -> str:
    """The stored error of a run the user stopped: "cancelled (SIGTERM) after 5 requests"."""
    why = f" ({reason})" if reason else ""
    return f"{CANCELLED}{why} after {finished} request{'' if finished == 1 else 's'}"


def is_cancelled(error: str | None) -> bool:
    """The run was stopped by the user (or a signal), not by a fault."""
    return bool(error) and str(error).startswith(_CANCEL_PREFIXES)


def status_label(status: str, error: str | None, requests: int | None = None) -> str:
    """A run's status as ``history`` and the wizard list it: "cancelled (3 requests)" for a run the user
    stopped, whatever it finished ("cancelled (nothing finished)"), else the stored status."""
    if status == "complete" or not is_cancelled(error):
        return status
    if not requests:
        return f"{CANCELLED} (nothing finished)"
    return f"{CANCELLED} ({requests} request{'' if requests == 1 else 's'})"


def power_source(machine: Machine | None) -> str:
    """The power source to record: "ac", "battery", "no battery" (mains: desktops, VMs) or "unknown"."""
    if machine is None:
        return "unknown"
    if machine.power.on_ac is None:
        return "unknown" if machine.power.has_battery else "no battery"
    return "ac" if machine.power.on_ac else "battery"


def split_model(name: str) -> tuple[str, str]:
    """``smollm2:135m`` → ("smollm2", "135m"); no tag → "latest" (Ollama's default)."""
    head, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "latest"
    return head, tag


@dataclass(frozen=True)
class RunRow:
    """One stored run. JSON columns come back decoded.

    Attributes:
        id / started_at / finished_at / status: identity and outcome.
        model / tag / quantization / engine_version / api / url / power_source: context columns.
        settings: benchmark settings (reps, num_predict, options, concurrency bounds, ...).
        machine: ``Machine.to_dict()`` at run time, None if detection was unavailable.
        predicted: the estimator's numbers for this model, None if none.
        summary: the computed results (shapes, concurrency table, comparisons), None until finished.
        error: why the run stopped early, if it did.
        requests: finished requests stored for the run.
        damaged: the JSON columns that could not be read (left out as None; the rest of the run stands).
    """

    id: int
    started_at: str
    finished_at: str | None
    status: Status
    model: str
    tag: str
    quantization: str | None
    engine_version: str | None
    api: str
    url: str
    power_source: str | None
    settings: dict[str, Any]
    machine: dict[str, Any] | None
    predicted: dict[str, Any] | None
    summary: dict[str, Any] | None
    error: str | None
    requests: int
    damaged: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.model}:{self.tag}"

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


def clean_summary(summary: dict[str, Any] | None, damaged: list[str]) -> dict[str, Any] | None:
    """The summary with its shape and concurrency rows kept only when they are objects with their key
    (what ``history`` and ``compare_runs`` index into); anything else counts as damaged."""
    if summary is None:
        return None
    out = dict(summary)
    for key, ident, kind in (("shapes", "shape", str), ("concurrency", "streams", int)):
        rows = summary.get(key, [])
        good = (
            [r for r in rows if isinstance(r, dict) and isinstance(r.get(ident), kind)]
            if isinstance(rows, list)
            else []
        )
        if not isinstance(rows, list) or len(good) != len(rows):
            damaged.append(f"summary.{key}")
        out[key] = good
    return out


def median_of(metric: Any) -> float | None:
    """The ``median`` of a stored summary (``{"median": ..., ...}``), None when absent or not a number."""
    value = metric.get("median") if isinstance(metric, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare_runs(a: RunRow, b: RunRow) -> list[dict[str, Any]]:
    """Rows of (metric, value in a, value in b, change %) over what both runs measured."""
    rows: list[dict[str, Any]] = []

    def add(metric: str, va: float | None, vb: float | None) -> None:
        change = (vb - va) / va * 100.0 if va and vb is not None else None
        rows.append({"metric": metric, "a": va, "b": vb, "change_pct": change})

    shapes_a = {s["shape"]: s for s in (a.summary or {}).get("shapes", [])}
    shapes_b = {s["shape"]: s for s in (b.summary or {}).get("shapes", [])}
    number = median_of  # a stored figure: None unless a number
    for shape in [s for s in shapes_a if s in shapes_b]:
        for key, label in (
            ("client_decode_tps", "decode tok/s"),
            ("server_decode_tps", "server decode tok/s"),
            ("prompt_tps", "prompt tok/s"),
            ("ttft_s", "TTFT s"),
        ):
            add(
                f"{shape} {label} (median)",
                number(shapes_a[shape].get(key)),
                number(shapes_b[shape].get(key)),
            )
    levels_a = {lv["streams"]: lv for lv in (a.summary or {}).get("concurrency", [])}
    levels_b = {lv["streams"]: lv for lv in (b.summary or {}).get("concurrency", [])}
    for streams in sorted(set(levels_a) & set(levels_b)):
        add(
            f"{streams_label(streams)} aggregate tok/s",
            number({"median": levels_a[streams].get("aggregate_tps")}),
            number({"median": levels_b[streams].get("aggregate_tps")}),
        )
    return rows


__all__ = [
    "CANCELLED",
    "RunRow",
    "Status",
    "cancel_message",
    "clean_summary",
    "compare_runs",
    "is_cancelled",
    "median_of",
    "split_model",
    "status_label",
]
