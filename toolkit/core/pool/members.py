"""A pool's members: who they are, what each has measured, how nginx weighs them, and the pool file.

``gpuless pool add`` joins another laptop's share to this laptop's gateway. What is kept of each member
(its URL, the ``host:port`` nginx connects to, the models it listed, its measured capacity) and the pool
key every member accepts is one JSON file, private to the user (the key is a secret). A member's capacity
is the users per speed grade its own ``gpuless bench`` measured, which its share publishes at
``/gpuless/capacity.json``; it weighs the member in nginx's ``least_conn`` and feeds ``pool plan``.
Pure: the adapters fetch and store, this checks and decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from toolkit.core.bench.run import RunRow
from toolkit.core.estimate.grades import GRADE_LINES
from toolkit.errors import UsageError

FILE_VERSION = 1
#: The grade a member's weight is read at: reading pace, the line every team needs.
WEIGHT_GRADE = "C"
_HOST = re.compile(r"^[0-9A-Za-z.-]+$")


@dataclass(frozen=True)
class Capacity:
    """Users a laptop held per speed grade in its latest ``gpuless bench`` sweep.

    Attributes:
        model: the model measured.
        users: grade letter ("A", "B", "C") → most simultaneous users a measured level held there.
        most_streams: the most streams the sweep sent: a grade that held them all may hold more
            (the figure is then a floor, not a limit).
        measured_at: when the run finished (ISO 8601, as the history stored it).
    """

    model: str
    users: Mapping[str, int]
    most_streams: int
    measured_at: str

    def at(self, letter: str) -> int:
        return int(self.users.get(letter, 0))

    def is_floor(self, letter: str) -> bool:
        """The sweep stopped before this grade failed: the laptop may hold more than ``at(letter)``."""
        return self.at(letter) >= self.most_streams

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FILE_VERSION,
            "model": self.model,
            "users_per_grade": dict(self.users),
            "most_streams": self.most_streams,
            "measured_at": self.measured_at,
        }


def capacity_from_run(run: RunRow) -> Capacity | None:
    """The capacity a finished bench run measured, or None when it swept no concurrency level."""
    summary = run.summary or {}
    per_line = summary.get("users_per_grade")
    levels = summary.get("concurrency")
    if run.status != "complete" or not isinstance(per_line, dict) or not isinstance(levels, list):
        return None
    streams = [lv.get("streams") for lv in levels if isinstance(lv, dict)]
    most = max((s for s in streams if isinstance(s, int)), default=0)
    if most < 1:
        return None
    users: dict[str, int] = {
        letter: int(per_line.get(str(int(line)), 0) or 0) for line, letter in GRADE_LINES
    }
    return Capacity(run.name, users, most, run.finished_at or run.started_at)


def capacity_from_dict(body: Any) -> Capacity | None:
    """A published ``capacity.json`` read back; None when it is not one (a member's card is only advice)."""
    if not isinstance(body, dict) or body.get("format") != FILE_VERSION:
        return None
    users, model, most = body.get("users_per_grade"), body.get("model"), body.get("most_streams")
    if not isinstance(users, dict) or not isinstance(model, str) or not isinstance(most, int):
        return None
    letters = {letter for _, letter in GRADE_LINES}
    clean = {k: v for k, v in users.items() if k in letters and isinstance(v, int) and 0 <= v <= 10_000}
    return Capacity(model, clean, most, str(body.get("measured_at", "")))


@dataclass(frozen=True)
class PoolMember:
    """Another laptop's share in this laptop's pool.

    Attributes:
        url: the share's URL as the user gave it (normalised: ``http://host:port``).
        address: ``host:port``, what nginx connects to.
        models: the models it listed when it was added.
        capacity: what its share published (None: it has no bench sweep to publish).
        added: when it was added (ISO 8601).
    """

    url: str
    address: str
    models: tuple[str, ...]
    capacity: Capacity | None
    added: str


def member_address(url: str) -> tuple[str, str]:
    """``http://192.168.1.7:8080/`` → (``http://192.168.1.7:8080``, ``192.168.1.7:8080``).

    Only plain-HTTP shares with a host and nothing after the port: nginx proxies every member with the
    same scheme, and a share's API is at its root."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else "http://" + text)
    try:
        port = parts.port or 80
    except ValueError:
        raise UsageError(f"not a share URL: {url!r}", "Use the URL `gpuless share` printed there.") from None
    host = parts.hostname or ""
    if parts.scheme != "http" or not _HOST.match(host) or parts.path not in ("", "/") or parts.query:
        raise UsageError(
            f"not a share URL: {url!r}",
            "Use the plain http://ADDR:PORT URL `gpuless share` printed on that laptop.",
        )
    return f"http://{host}:{port}", f"{host}:{port}"


@dataclass(frozen=True)
class Pool:
    """This laptop's pool: the key every member accepts, the model it serves, and the members.

    Attributes:
        key: the pool key (None until the first member is added).
        model: the model every member serves (None until the first member is added).
        members: the other laptops, in the order they were added (this laptop's Ollama is not listed:
            it is always the first member of the gateway's upstream).
    """

    key: str | None = None
    model: str | None = None
    members: tuple[PoolMember, ...] = ()

    def get(self, url: str) -> PoolMember | None:
        wanted = member_address(url)[0]
        return next((m for m in self.members if m.url == wanted), None)

    def check_key(self, key: str) -> None:
        """UsageError unless ``key`` is this pool's key (any key starts an empty pool)."""
        if self.key is not None and key != self.key:
            raise UsageError(
                "that key is not this pool's key: every member must accept the same pool key",
                "Pass the pool key the other members accept (or `gpuless pool remove` them all first).",
            )

    def add(self, key: str, model: str, member: PoolMember) -> Pool:
        """This pool with ``member`` (replacing an earlier entry of the same URL, e.g. to re-read it)."""
        self.check_key(key)
        if self.model is not None and model != self.model:
            raise UsageError(f"this pool serves {self.model}, not {model}")
        others = tuple(m for m in self.members if m.url != member.url)
        return replace(self, key=key, model=model, members=(*others, member))

    def remove(self, url: str) -> Pool:
        member = self.get(url)
        if member is None:
            known = ", ".join(m.url for m in self.members) or "none"
            hint = "See them: `gpuless pool status`."
            raise UsageError(f"{url} is not in the pool (members: {known})", hint)
        members = tuple(m for m in self.members if m.url != member.url)
        return Pool(self.key, self.model, members) if members else Pool()


def weights(local: Capacity | None, members: Sequence[PoolMember]) -> tuple[int, ...]:
    """nginx weights, this laptop first: each member's users at grade C (at least 1) when every member
    has measured one; all 1 otherwise (a guess beside measurements would skew the split)."""
    capacities = [local, *(m.capacity for m in members)]
    if any(c is None for c in capacities):
        return tuple(1 for _ in capacities)
    return tuple(max(1, c.at(WEIGHT_GRADE)) for c in capacities if c is not None)


def parse_stub_status(text: str) -> int | None:
    """Requests in flight on a gateway from nginx's stub_status text ("Writing" counts the request
    reading it, which is taken off); None when the text is not stub_status's."""
    found = re.search(r"Writing:\s*(\d+)", text)
    return max(0, int(found.group(1)) - 1) if found else None


def to_json(pool: Pool) -> str:
    members = [
        {
            "url": m.url,
            "address": m.address,
            "models": list(m.models),
            "capacity": m.capacity.to_dict() if m.capacity else None,
            "added": m.added,
        }
        for m in pool.members
    ]
    body = {"version": FILE_VERSION, "key": pool.key, "model": pool.model, "members": members}
    return json.dumps(body, indent=2) + "\n"


def from_json(text: str, where: str = "the pool file") -> Pool:
    """Parse the pool file; UsageError (naming ``where``) when it is not one this version wrote."""
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(body, dict) or body.get("version") != FILE_VERSION:
        raise UsageError(f"{where} is not a gpuless pool file (version {FILE_VERSION})")
    members: list[PoolMember] = []
    for entry in body.get("members") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            raise UsageError(f"{where} has a malformed member entry")
        url, address = member_address(entry["url"])
        models = tuple(str(m) for m in entry.get("models") or [])
        capacity = capacity_from_dict(entry.get("capacity"))
        members.append(PoolMember(url, address, models, capacity, str(entry.get("added", ""))))
    key, model = body.get("key"), body.get("model")
    if members and not (isinstance(key, str) and isinstance(model, str)):
        raise UsageError(f"{where} has members but no pool key or model")
    return Pool(key if members else None, model if members else None, tuple(members))
