"""The share keys: the ring's rules, the key file's format and mode, the nginx files rendered from them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from toolkit.adapters.gateway.keystore import KeyStore, new_secret
from toolkit.core.share.help_page import render_help_page
from toolkit.core.share.invite import parse_listen
from toolkit.core.share.keys import ADMIN_NAME, KeyRing, from_json, to_json
from toolkit.core.share.nginx_conf import GatewayConfig, Member, render_keys_map, render_nginx_conf
from toolkit.errors import UsageError

SECRET_A = "gpl_" + "a" * 32
SECRET_B = "gpl_" + "b" * 32


def test_secrets_are_long_random_and_distinct() -> None:
    secrets = {new_secret() for _ in range(200)}
    assert len(secrets) == 200
    for secret in secrets:
        # 24 random bytes → 32 URL-safe characters (192 bits), after the prefix
        assert secret.startswith("gpl_") and len(secret) == 4 + 32


def test_ring_adds_revokes_and_gives_roles() -> None:
    ring = KeyRing().add(ADMIN_NAME, SECRET_A, "t0").add("alice", SECRET_B, "t1")
    assert ring.get("admin") is not None and ring.get("admin").role == "admin"  # type: ignore[union-attr]
    assert ring.get("alice").role == "teammate"  # type: ignore[union-attr]
    assert [key.name for key in ring.revoke("alice").keys] == ["admin"]
    with pytest.raises(UsageError, match="already a key named 'alice'"):
        ring.add("alice", "gpl_" + "c" * 32, "t2")
    with pytest.raises(UsageError, match="already in use"):
        ring.add("bob", SECRET_B, "t2")
    with pytest.raises(UsageError, match="no key named 'carol'"):
        ring.revoke("carol")


@pytest.mark.parametrize("name", ["", "Alice", "al ice", 'a"b', "a;b", "-x", "x" * 33])
def test_names_that_cannot_go_into_the_nginx_map_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="invalid key name"):
        KeyRing().add(name, SECRET_A, "t")


@pytest.mark.parametrize("secret", ["gpl_short", "gpl_" + "a" * 31 + '"', "x" * 40, "gpl_" + "a" * 31 + "}"])
def test_secrets_outside_the_alphabet_are_refused(secret: str) -> None:
    with pytest.raises(UsageError, match="secret"):
        KeyRing().add("bob", secret, "t")


def test_key_file_round_trips_and_rejects_other_files() -> None:
    ring = KeyRing().add(ADMIN_NAME, SECRET_A, "t0").add("alice", SECRET_B, "t1")
    assert from_json(to_json(ring)) == ring
    with pytest.raises(UsageError, match="not valid JSON"):
        from_json("{")
    with pytest.raises(UsageError, match="not a gpuless key file"):
        from_json('{"version": 99, "keys": []}')


def test_key_store_writes_mode_0600_in_a_0700_directory(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "share")
    assert store.load() == KeyRing()
    ring, key = store.add(KeyRing(), "alice")
    store.save(ring)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert store.load().get("alice") == key
    conf_dir = store.write_gateway_files({"keys.map": render_keys_map(ring)})
    assert stat.S_IMODE((conf_dir / "keys.map").stat().st_mode) == 0o600
    assert list(conf_dir.iterdir()) == [conf_dir / "keys.map"]  # no temporary file left


def test_keys_map_maps_each_bearer_header_and_only_the_admin_to_admin() -> None:
    ring = KeyRing().add(ADMIN_NAME, SECRET_A, "t0").add("alice", SECRET_B, "t1")
    text = render_keys_map(ring)
    assert f'"Bearer {SECRET_A}" "admin";' in text
    assert f'"Bearer {SECRET_B}" "alice";' in text
    admin_map = text.split("map $gpuless_key $gpuless_admin", 1)[1]
    assert '"admin" "1";' in admin_map and "alice" not in admin_map


def test_nginx_conf_lists_every_member_and_the_limits() -> None:
    members = (Member("127.0.0.1:11434"), Member("127.0.0.1:11500", weight=3))
    text = render_nginx_conf(GatewayConfig("192.168.1.20", 8080, members, max_streams_per_key=3))
    assert "listen 192.168.1.20:8080;" in text
    assert "server 127.0.0.1:11434 weight=1 max_fails=2 fail_timeout=10s;" in text
    assert "server 127.0.0.1:11500 weight=3 max_fails=2 fail_timeout=10s;" in text
    assert text.count("limit_conn per_key 3;") == 3  # /, the admin paths, the rest
    assert "proxy_buffering off;" in text and "proxy_read_timeout 600s;" in text
    assert "location ~* ^/api/(pull|push|create|copy|delete|blobs)(/|$)" in text
    assert text.count("{") == text.count("}") and "{streams}" not in text  # every placeholder filled


def test_the_help_page_holds_nothing_nginx_would_read_as_code() -> None:
    page = render_help_page("http://192.168.1.20:8080")
    assert "http://192.168.1.20:8080/v1" in page and "YOUR-KEY" in page
    with pytest.raises(UsageError, match="cannot hold"):
        render_help_page("http://x/$host")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8080", "not ADDR:PORT"),
        ("lan:8080", "not an IPv4 address"),
        ("[::1]:8080", "not an IPv4 address"),
        ("10.0.0.1:70000", "out of range"),
    ],
)
def test_listen_address_must_be_an_ip_and_a_port(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_listen(text)
    assert parse_listen("127.0.0.2:9000").url == "http://127.0.0.2:9000"
