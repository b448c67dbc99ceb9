"""Who else reaches the server (issue 25 item 5): an exposed server's LAN address is named by `connect`
and the `compose`/`up` warning, never only 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from tests.cli_run import run
from toolkit.services.connecting import elsewhere, lan_address
from toolkit.settings import Settings

AF_INET = 2


def _interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A laptop's interfaces: loopback, Docker's bridge, a virtual pair, a Wi-Fi that is down and an
    Ethernet that is up (the one teammates reach)."""
    addrs = {
        "lo": ["127.0.0.1"],
        "docker0": ["172.17.0.1"],
        "veth12ab": ["169.254.3.4"],
        "wlan0": ["192.168.1.77"],
        "eth0": ["fe80::1", "192.168.1.5"],
    }
    table = {name: [SimpleNamespace(family=AF_INET, address=a) for a in ips] for name, ips in addrs.items()}
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: table)
    up = {"lo": True, "docker0": True, "veth12ab": True, "wlan0": False, "eth0": True}
    monkeypatch.setattr(psutil, "net_if_stats", lambda: {n: SimpleNamespace(isup=u) for n, u in up.items()})


def test_the_lan_address_is_a_private_address_on_a_physical_interface_that_is_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _interfaces(monkeypatch)
    assert lan_address() == "192.168.1.5"


def test_an_exposed_compose_file_names_the_lan_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _interfaces(monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")  # no engine: no gateway either
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["compose", "--model", "qwen2.5:0.5b", "--expose", "--port", "11500"], capsys)
    assert code == 0, err
    assert "port 11500 (on the LAN: http://192.168.1.5:11500)" in err
    found = elsewhere("http://127.0.0.1:11500", Settings())
    assert found == (("other machines on the LAN (exposed: no key)", "http://192.168.1.5:11500"),)
    assert elsewhere("http://127.0.0.1:11434", Settings()) == ()  # another server: not this file's
    code, out, err = run(["connect", "--url", "http://127.0.0.1:11500", "--model", "m:1"], capsys)
    assert code == 0, err
    assert "from other machines on the LAN (exposed: no key): http://192.168.1.5:11500/v1" in out
