"""The SQLite history: created on first write, WAL, schema version, partial runs kept, exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from toolkit.adapters.bench.history import SCHEMA_VERSION, History
from toolkit.core.bench.run import compare_runs, split_model
from toolkit.errors import HistoryError, UsageError


def _summary(decode: float, aggregate: float) -> dict[str, object]:
    return {
        "shapes": [{"shape": "chat", "client_decode_tps": {"median": decode}, "ttft_s": {"median": 0.2},
                    "server_decode_tps": None, "prompt_tps": {"median": 900.0}}],
        "concurrency": [{"streams": 2, "aggregate_tps": aggregate}],
    }  # fmt: skip


def _start(store: History, model: str = "smollm2:135m") -> int:
    return store.start_run(
        model=model,
        api="ollama",
        url="http://127.0.0.1:11434",
        settings={"reps": 3, "num_predict": 64},
        quantization="Q4_1",
        engine_version="0.32.15",
        machine={"cpu": {"model": "test cpu"}},
        power_source="ac",
    )


def test_reading_creates_nothing_and_first_write_creates_dirs(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "history.sqlite3"
    store = History(path)
    assert store.list_runs() == []
    assert not path.parent.exists()
    _start(store)
    assert path.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_interrupted_run_keeps_finished_requests(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as store:
        run_id = _start(store)
        metrics = {"client_decode_tps": 120.0, "output_tokens": 64}
        store.add_request(
            run_id, phase="shape", shape="chat", streams=1, metrics=metrics, server={"eval_count": 64}
        )
    # The process "dies" here (no finish_run): a new reader still sees the run and its request.
    with History(path) as reader:
        run = reader.get_run(run_id)
        assert run.status == "incomplete" and run.finished_at is None
        assert run.requests == 1 and run.machine == {"cpu": {"model": "test cpu"}}
        rows = reader.requests(run_id)
        assert rows[0]["client_decode_tps"] == 120.0 and rows[0]["server"] == {"eval_count": 64}


def test_finish_compare_and_export(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as store:
        a = _start(store)
        store.add_request(a, phase="shape", shape="chat", streams=1, metrics={"client_decode_tps": 100.0})
        store.finish_run(a, status="complete", summary=_summary(100.0, 150.0), predicted={"decode_tps": 90.0})
        b = _start(store, "gemma3:270m")
        store.add_request(b, phase="concurrency", shape="chat", streams=2, metrics=None, error="server busy")
        store.finish_run(b, status="incomplete", summary=_summary(110.0, 120.0), error="server busy")

        runs = store.list_runs()
        assert [r.id for r in runs] == [b, a]
        assert runs[0].status == "incomplete" and runs[0].error == "server busy"
        assert runs[0].requests == 0  # the failed request is stored but not counted as finished
        assert runs[1].predicted == {"decode_tps": 90.0} and (runs[1].model, runs[1].tag) == (
            "smollm2",
            "135m",
        )

        rows = {r["metric"]: r for r in compare_runs(store.get_run(a), store.get_run(b))}
        assert rows["chat decode tok/s (median)"]["change_pct"] == pytest.approx(10.0)
        assert rows["2 streams aggregate tok/s"]["change_pct"] == pytest.approx(-20.0)

        table = list(csv.DictReader(io.StringIO(store.export_csv())))
        assert len(table) == 2
        failed = next(r for r in table if r["run_id"] == str(b))
        assert failed["ok"] == "0" and failed["error"] == "server busy" and failed["run_model"] == "gemma3"
        exported = store.export_json([a])
        assert exported[0]["request_rows"][0]["client_decode_tps"] == 100.0

        with pytest.raises(UsageError, match="no benchmark run 99"):
            store.get_run(99)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(HistoryError, match="newer gpuless"):
        History(path).list_runs()


def test_unwritable_location_is_a_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(HistoryError, match="cannot create"):
        _start(History(blocker / "sub" / "h.sqlite3"))


def test_split_model() -> None:
    assert split_model("smollm2:135m") == ("smollm2", "135m")
    assert split_model("llama3.2") == ("llama3.2", "latest")
    assert split_model("localhost:5000/ns/model") == ("localhost:5000/ns/model", "latest")
