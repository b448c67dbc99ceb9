"""The pool through real nginx: two one-CPU stand-in laptops behind laptop A's gateway.

Least connections splits concurrent streams evenly (equal weights: neither laptop has measured yet), a
member whose Ollama dies is skipped for every request started after (its gateway's 502 is retried on the
survivor before a byte reaches the client) while its streams in flight end with one clear error, a member
whose gateway is gone (connection refused) is skipped the same way, and a reload for a new member cuts no
stream in flight.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.ollama_server.fixtures import wait_until_up
from tests.pool.conftest import MODEL, Rig, chat_count, stream_chat, wait_chats
from toolkit.adapters.gateway.members import gateway_in_flight
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.errors import StreamError
from toolkit.services import pool as pool_service
from toolkit.services import share as share_service

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("pool")]


async def _many(url: str, key: str, count: int, words: int) -> list[dict[str, object]]:
    return list(await asyncio.gather(*(stream_chat(url, key, words) for _ in range(count))))


def test_eight_concurrent_streams_split_between_two_members_within_one(rig: Rig) -> None:
    before_a, before_b = chat_count(rig.a), chat_count(rig.b)
    done = asyncio.run(_many(rig.a.url, rig.key, 8, 48))
    assert all(line.get("done") is True for line in done)
    # Docker copies each log on its own schedule: wait for all eight to be counted (bounded), not for three
    # on each, or the eighth can still be on its way
    deadline = time.monotonic() + 10
    while True:
        on_a, on_b = chat_count(rig.a) - before_a, chat_count(rig.b) - before_b
        if on_a + on_b >= 8 or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    assert on_a + on_b == 8, (on_a, on_b)
    assert abs(on_a - 4) <= 1 and abs(on_b - 4) <= 1, (on_a, on_b)


def test_status_shows_each_member_up_serving_the_model(rig: Rig) -> None:
    state = pool_service.status(rig.a.settings)
    assert state.model == MODEL and state.url == rig.a.url
    assert [row.name for row in state.members] == ["this laptop", rig.b.url]
    assert all(row.health.up and row.serves for row in state.members)
    assert state.members[1].health.in_flight == 0  # B's gateway answers nothing else right now
    assert state.in_flight == 0


async def _stream_with_client(url: str, key: str, words: int, first: asyncio.Event) -> str:
    """One chat through gpuless's own client: "done", or the one line of the error it raised."""
    async with OllamaClient(url, timeout=60, api_key=key) as client:
        try:
            async for event in client.stream_chat(
                MODEL,
                [{"role": "user", "content": "Tell a long story."}],
                options={"num_predict": words, "temperature": 0},
            ):
                first.set()
                if type(event).__name__ == "Done":
                    return "done"
        except StreamError as error:
            return f"error: {error.message}"
    return "no Done"


async def _kill_mid_run(rig: Rig) -> tuple[list[str], list[dict[str, object]]]:
    firsts = [asyncio.Event() for _ in range(4)]
    flying = [asyncio.create_task(_stream_with_client(rig.a.url, rig.key, 160, e)) for e in firsts]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in firsts)), 60)
    # B's gateway counts the requests it answers now (stub_status, read by `pool status`): two of four.
    assert await asyncio.to_thread(gateway_in_flight, rig.b.url, rig.pool_key) == 2
    rig.b.ollama.container.kill()
    ended = list(await asyncio.gather(*flying))
    after = await _many(rig.a.url, rig.key, 6, 8)  # every request started after the kill
    return ended, after


def test_a_member_killed_mid_run_fails_only_its_streams_and_comes_back_after_restart(rig: Rig) -> None:
    before_a = chat_count(rig.a)
    try:
        ended, after = asyncio.run(_kill_mid_run(rig))
        assert sorted(ended)[:2] == ["done", "done"], ended  # the two streams on A finish
        broken = sorted(ended)[2:]
        assert all(line.startswith("error: ") and "broke mid-answer" in line for line in broken), ended
        assert all(line.get("done") is True for line in after)  # retried on A before their first byte
        # Docker copies the log on its own schedule: wait for the lines, not for a moment.
        assert wait_chats(rig.a, before_a + 2 + 6) - before_a >= 2 + 6
        down = pool_service.status(rig.a.settings).members[1]
        assert not down.health.up and "502" in down.health.reason, down.health
    finally:  # B comes back however this ends: the module's other tests pool it too
        rig.b.ollama.container.start()
        wait_until_up(rig.b.ollama.url, 60, rig.b.ollama.alive)
    up = pool_service.status(rig.a.settings).members[1]
    assert up.health.up and up.serves
    # nginx tries B again once its fail_timeout (10 s) has passed: B gets requests again.
    back, deadline = chat_count(rig.b), time.monotonic() + 40
    while chat_count(rig.b) == back and time.monotonic() < deadline:
        assert all(line.get("done") is True for line in asyncio.run(_many(rig.a.url, rig.key, 2, 4)))
        time.sleep(1)
    assert chat_count(rig.b) > back


async def _add_while_streaming(rig: Rig) -> list[dict[str, object]]:
    firsts = [asyncio.Event() for _ in range(4)]
    flying = [asyncio.create_task(stream_chat(rig.a.url, rig.key, 200, e)) for e in firsts]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in firsts)), 60)
    await asyncio.to_thread(pool_service.add, rig.a.settings, rig.b.url, rig.pool_key)
    assert not all(task.done() for task in flying)  # the reload came while they streamed
    return list(await asyncio.gather(*flying))


def test_adding_a_member_while_four_streams_run_cuts_none(rig: Rig) -> None:
    pool_service.remove(rig.a.settings, rig.b.url)
    assert [row.name for row in pool_service.status(rig.a.settings).members] == ["this laptop"]
    done = asyncio.run(_add_while_streaming(rig))
    assert [line.get("done") for line in done] == [True] * 4
    assert all(line.get("eval_count") == 200 for line in done)  # every answer whole
    assert len(pool_service.status(rig.a.settings).members) == 2


def test_a_member_whose_gateway_is_gone_refuses_and_every_request_goes_to_the_other(rig: Rig) -> None:
    listen = rig.b.url.removeprefix("http://")
    share_service.stop(rig.b.settings)  # laptop B's gateway closes: its port refuses connections
    try:
        before_a = chat_count(rig.a)
        done = asyncio.run(_many(rig.a.url, rig.key, 4, 4))
        assert all(line.get("done") is True for line in done)  # retried on A before the first byte
        assert wait_chats(rig.a, before_a + 4) - before_a == 4
        down = pool_service.status(rig.a.settings).members[1]
        assert not down.health.up and "nothing answers" in down.health.reason
    finally:
        share_service.share(rig.b.settings, listen=listen, max_streams=16)
    assert pool_service.status(rig.a.settings).members[1].health.up
