"""A member's measured capacity: its share publishes it to the pool key only, and it weighs the member.

The bench runs are stored in each laptop's real history file (the SQLite store `gpuless bench` writes);
their summaries carry what a sweep measured, users per grade, so the test controls the figures.
"""

from __future__ import annotations

import httpx
import pytest

from tests.pool.conftest import MODEL, Laptop, Rig
from toolkit.adapters.bench.history import History
from toolkit.services import pool as pool_service
from toolkit.services import share as share_service

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("pool")]


def store_sweep(laptop: Laptop, users_c: int, users_b: int) -> None:
    """A finished bench run of this laptop's own Ollama: 1, 2 and 4 streams, ``users_c`` held at C."""
    with History(laptop.settings.history_path) as history:
        run = history.start_run(model=MODEL, api="ollama", url=laptop.settings.ollama_url, settings={})
        levels = [{"streams": n} for n in (1, 2, 4)]
        summary = {"users_per_grade": {"15": users_c, "30": users_b, "70": 0}, "concurrency": levels}
        history.finish_run(run, status="complete", summary=summary)


def test_a_share_publishes_its_capacity_to_the_pool_key_and_the_pool_weighs_by_it(rig: Rig) -> None:
    store_sweep(rig.b, users_c=3, users_b=1)
    outcome = share_service.share(rig.b.settings, listen=None)  # the reload publishes the latest sweep
    assert outcome.action == "reloaded"
    url = f"{rig.b.url}/gpuless/capacity.json"
    card = httpx.get(url, headers={"Authorization": f"Bearer {rig.pool_key}"})
    assert card.status_code == 200, card.text
    assert card.json()["users_per_grade"] == {"A": 0, "B": 1, "C": 3} and card.json()["model"] == MODEL
    admin = {"Authorization": f"Bearer {rig.b.keys['admin'].secret}"}
    assert httpx.get(url, headers=admin).status_code == 403  # a limited key learns nothing of the pool
    assert httpx.get(url).status_code == 401

    store_sweep(rig.a, users_c=3, users_b=2)
    _, member = pool_service.add(rig.a.settings, rig.b.url, None)  # added again: its card is re-read
    assert member.capacity is not None and member.capacity.at("C") == 3
    conf = (rig.a.settings.share_dir / "gateway" / "nginx.conf").read_text()
    assert f"server {rig.a.ollama.host} weight=3 " in conf
    assert f"server {rig.b.url.removeprefix('http://')} weight=3 " in conf
    state = pool_service.status(rig.a.settings)
    assert [row.weight for row in state.members] == [3, 3]

    holds = pool_service.plan(rig.a.settings, 6, "C")
    assert holds.holds and holds.held == 6 and holds.suggestions == ()
    short = pool_service.plan(rig.a.settings, 7, "C")
    assert not short.holds and short.suggestions[0] == "fewer users: the pool holds 6 at grade C as measured"
    assert any("another laptop like" in tip for tip in short.suggestions), short.suggestions
