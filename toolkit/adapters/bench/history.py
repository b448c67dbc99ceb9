"""The benchmark history: every run, with its full context, in one SQLite file the user owns.

A run is written when it starts (status ``incomplete``), each finished request is appended and
committed at once, and the run is marked ``complete`` (or keeps ``incomplete``/``failed`` with the
error) at the end, so a crash or Ctrl-C never loses a finished measurement. WAL mode (set by the
first write) lets ``gpuless history`` read while a benchmark writes. ``PRAGMA user_version`` holds
the schema version.

Reading changes nothing: it opens the file read-only (no WAL switch, no schema creation), so it works
in a directory the user cannot write. A JSON cell that does not decode, or decodes to the wrong
shape, is left out of its run (named in ``RunRow.damaged``) instead of failing every run. The hint
of a failure says what the SQLite error means (damaged file, no permission, disk full, locked).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolkit.core.bench.run import RunRow, Status, clean_summary, split_model
from toolkit.errors import HistoryError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('complete', 'incomplete', 'failed')),
    model TEXT NOT NULL,
    tag TEXT NOT NULL,
    quantization TEXT,
    engine_version TEXT,
    api TEXT NOT NULL,
    url TEXT NOT NULL,
    power_source TEXT,
    settings_json TEXT NOT NULL,
    machine_json TEXT,
    predicted_json TEXT,
    summary_json TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    finished_at TEXT NOT NULL,
    phase TEXT NOT NULL,
    shape TEXT NOT NULL,
    streams INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    ttft_s REAL,
    client_decode_tps REAL,
    server_decode_tps REAL,
    prompt_tps REAL,
    load_s REAL,
    total_s REAL,
    itl_p50_s REAL,
    itl_p95_s REAL,
    output_tokens INTEGER,
    prompt_tokens INTEGER,
    chunks INTEGER,
    server_json TEXT
);
CREATE INDEX IF NOT EXISTS requests_run ON requests(run_id);
"""

#: Request columns holding metrics, in export order.
METRIC_COLUMNS = (
    "ttft_s",
    "client_decode_tps",
    "server_decode_tps",
    "prompt_tps",
    "load_s",
    "total_s",
    "itl_p50_s",
    "itl_p95_s",
    "output_tokens",
    "prompt_tokens",
    "chunks",
)
RUN_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "status",
    "model",
    "tag",
    "quantization",
    "engine_version",
    "api",
    "url",
    "power_source",
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _loads(text: str | None) -> Any:
    """A JSON cell; a cell that does not decode reads as None (callers that care use ``_cell``)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _cell(row: sqlite3.Row, column: str, damaged: list[str]) -> dict[str, Any] | None:
    """A JSON object cell; one that does not decode to an object is named in ``damaged``."""
    text = row[column]
    if not text:
        return None
    value = _loads(text)
    if not isinstance(value, dict):
        damaged.append(column.removesuffix("_json"))
        return None
    return value


def _hint(error: sqlite3.Error, path: Path) -> str:
    """What a SQLite error most likely means for the user, and what to do."""
    text = str(error).lower()
    if "not a database" in text or "malformed" in text:
        return f"The file is damaged; move {path} aside to start a new history."
    if "locked" in text or "busy" in text:
        return "Another gpuless is writing the history; retry in a moment."
    if "full" in text:
        return "The disk is full; free some space (the runs stored so far are kept)."
    if "readonly" in text or "unable to open" in text or "permission" in text or "access" in text:
        return f"gpuless may not write {path.parent}; fix its permissions or set GPULESS_DATA_DIR."
    return f"Check {path} (its permissions and the free disk space)."


class History:
    """The store at ``path`` (normally ``Settings().history_path``); opened lazily, created on first write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._writable = False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection ---------------------------------------------------------------------------------

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None and (self._writable or not create):
            return self._conn
        if not create:
            return self._connect_read_only()
        self.close()
        if not self.path.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise HistoryError(
                    f"cannot create {self.path.parent}: {error.strerror}",
                    hint="Set GPULESS_DATA_DIR to a writable directory, or pass --no-history.",
                ) from None
        try:
            conn = sqlite3.connect(self.path, timeout=10.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                conn.close()
                raise self._newer_schema(version)
            if version < SCHEMA_VERSION:
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.commit()
        except sqlite3.Error as error:
            raise HistoryError(
                f"cannot open the history at {self.path}: {error}", hint=_hint(error, self.path)
            ) from None
        self._conn, self._writable = conn, True
        return conn

    def _newer_schema(self, version: int) -> HistoryError:
        """The refusal of a file a newer gpuless wrote (for writing and for reading alike)."""
        return HistoryError(
            f"{self.path} was written by a newer gpuless (schema {version}, this one knows {SCHEMA_VERSION})",
            hint="Upgrade gpuless, or point GPULESS_DATA_DIR elsewhere.",
        )

    def _connect_read_only(self) -> sqlite3.Connection | None:
        """A connection that cannot change the file; None when there is no history yet."""
        if not self.path.exists():
            return None
        uri = self.path.resolve().as_uri()
        try:
            try:
                conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10.0)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.OperationalError:
                # A WAL file in a directory we may not write: SQLite cannot make its -shm file there.
                # Reading the file as it stands is the best a reader can do.
                conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=10.0)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as error:
            raise HistoryError(
                f"cannot read the history at {self.path}: {error}", hint=_hint(error, self.path)
            ) from None
        if version > SCHEMA_VERSION:
            conn.close()
            raise self._newer_schema(version)
        if version < 1:  # an empty file: no run was ever written
            conn.close()
            return None
        conn.row_factory = sqlite3.Row
        self._conn, self._writable = conn, False
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with conn:  # one transaction, committed on exit (rolled back on an error: all or nothing)
                yield conn
        except sqlite3.Error as error:
            raise HistoryError(
                f"writing the history at {self.path} failed: {error}", hint=_hint(error, self.path)
            ) from None

    # --- writes -------------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        model: str,
        api: str,
        url: str,
        settings: Mapping[str, Any],
        quantization: str | None = None,
        engine_version: str | None = None,
        machine: Mapping[str, Any] | None = None,
        power_source: str | None = None,
        predicted: Mapping[str, Any] | None = None,
        started_at: str | None = None,
    ) -> int:
        """Record a new run as ``incomplete`` and return its id."""
        name, tag = split_model(model)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (started_at, status, model, tag, quantization, engine_version, api, url,"
                " power_source, settings_json, machine_json, predicted_json)"
                " VALUES (?, 'incomplete', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    started_at or now_iso(),
                    name,
                    tag,
                    quantization,
                    engine_version,
                    api,
                    url,
                    power_source,
                    json.dumps(dict(settings), default=str),
                    json.dumps(dict(machine), default=str) if machine is not None else None,
                    json.dumps(dict(predicted), default=str) if predicted is not None else None,
                ),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def add_request(
        self,
        run_id: int,
        *,
        phase: str,
        shape: str,
        streams: int,
        metrics: Mapping[str, Any] | None,
        server: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Append one request (finished, or failed with ``error``) and commit it at once."""
        values = [metrics.get(col) if metrics else None for col in METRIC_COLUMNS]
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO requests (run_id, finished_at, phase, shape, streams, ok, error,"
                f" {', '.join(METRIC_COLUMNS)}, server_json)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(METRIC_COLUMNS))}, ?)",
                (
                    run_id,
                    now_iso(),
                    phase,
                    shape,
                    streams,
                    int(error is None),
                    error,
                    *values,
                    json.dumps(dict(server)) if server is not None else None,
                ),
            )

    def finish_run(
        self,
        run_id: int,
        *,
        status: Status,
        summary: Mapping[str, Any] | None,
        error: str | None = None,
        predicted: Mapping[str, Any] | None = None,
    ) -> None:
        """Close a run; ``predicted`` replaces the stored prediction when given (it depends on the
        prompt length measured during the run)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary_json = ?, error = ?,"
                " predicted_json = COALESCE(?, predicted_json) WHERE id = ?",
                (
                    status,
                    now_iso(),
                    json.dumps(dict(summary), default=str) if summary else None,
                    error,
                    json.dumps(dict(predicted), default=str) if predicted else None,
                    run_id,
                ),
            )

    # --- reads --------------------------------------------------------------------------------------

    def _row(self, row: sqlite3.Row) -> RunRow:
        damaged: list[str] = []
        settings = _cell(row, "settings_json", damaged) or {}
        machine = _cell(row, "machine_json", damaged)
        predicted = _cell(row, "predicted_json", damaged)
        summary = clean_summary(_cell(row, "summary_json", damaged), damaged)
        return RunRow(
            id=row["id"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=row["status"],
            model=row["model"],
            tag=row["tag"],
            quantization=row["quantization"],
            engine_version=row["engine_version"],
            api=row["api"],
            url=row["url"],
            power_source=row["power_source"],
            settings=settings,
            machine=machine,
            predicted=predicted,
            summary=summary,
            error=row["error"],
            requests=row["n_requests"],
            damaged=tuple(damaged),
        )

    _SELECT = (
        "SELECT runs.*, (SELECT COUNT(*) FROM requests"
        " WHERE requests.run_id = runs.id AND ok = 1) AS n_requests FROM runs"
    )

    def list_runs(self, limit: int = 50) -> list[RunRow]:
        """Newest first; an absent file is an empty history (nothing is created by reading)."""
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            rows = conn.execute(f"{self._SELECT} ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        except sqlite3.Error as error:
            raise HistoryError(
                f"reading the history at {self.path} failed: {error}", hint=_hint(error, self.path)
            ) from None
        return [self._row(r) for r in rows]

    def get_run(self, run_id: int) -> RunRow:
        conn = self._connect(create=False)
        row = None
        if conn is not None:
            try:
                row = conn.execute(f"{self._SELECT} WHERE id = ?", (run_id,)).fetchone()
            except sqlite3.Error as error:
                raise HistoryError(
                    f"reading the history at {self.path} failed: {error}", hint=_hint(error, self.path)
                ) from None
        if row is None:
            from toolkit.errors import UsageError

            raise UsageError(
                f"no benchmark run {run_id} in the history", hint="List runs with `gpuless history`."
            )
        return self._row(row)

    def requests(self, run_id: int) -> list[dict[str, Any]]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            rows = conn.execute("SELECT * FROM requests WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
        except sqlite3.Error as error:
            raise HistoryError(
                f"reading the history at {self.path} failed: {error}", hint=_hint(error, self.path)
            ) from None
        out = []
        for row in rows:
            item = {key: row[key] for key in row.keys() if key != "server_json"}  # noqa: SIM118 (sqlite3.Row)
            item["server"] = _loads(row["server_json"])
            out.append(item)
        return out

    # --- exports ------------------------------------------------------------------------------------

    def export_json(self, run_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Runs with their requests, as JSON-ready dicts (all runs when ``run_ids`` is None)."""
        runs = [self.get_run(i) for i in run_ids] if run_ids else self.list_runs(limit=1_000_000)
        return [{**run.to_dict(), "request_rows": self.requests(run.id)} for run in runs]

    def export_csv(self, run_ids: Sequence[int] | None = None) -> str:
        """One CSV row per request, each carrying its run's context columns."""
        runs = [self.get_run(i) for i in run_ids] if run_ids else self.list_runs(limit=1_000_000)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        request_cols = ("phase", "shape", "streams", "ok", "error", *METRIC_COLUMNS)
        writer.writerow([f"run_{c}" for c in RUN_COLUMNS] + list(request_cols))
        for run in runs:
            head = [getattr(run, c) for c in RUN_COLUMNS]
            for req in self.requests(run.id):
                writer.writerow(head + [req[c] for c in request_cols])
        return buffer.getvalue()
