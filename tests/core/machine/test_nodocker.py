"""The Launch step's advice when no Docker engine answers: an engine for this OS, or native, or attach."""

from __future__ import annotations

import pytest

from toolkit.core.machine.nodocker import no_docker_advice


@pytest.mark.parametrize(
    ("system", "engine", "download"),
    [
        ("Darwin", "Docker Desktop", "the Mac app"),
        ("windows", "WSL 2 backend", "the Windows installer"),
        ("linux", "sudo systemctl start docker", "install.sh"),
        ("freebsd", "docs.docker.com/engine/install", "install.sh"),  # any other system: the Linux advice
    ],
)
def test_the_advice_fits_the_system(system: str, engine: str, download: str) -> None:
    advice = no_docker_advice(system, ollama_on_path=False)
    assert engine in advice.install and advice.install.endswith("press ctrl+s again.")
    assert download in advice.native and advice.native.endswith("then press r.")


def test_with_ollama_installed_r_runs_it() -> None:
    advice = no_docker_advice("linux", ollama_on_path=True)
    assert "gpuless starts `ollama serve`" in advice.native and "install it first" not in advice.native
    lines = advice.lines()
    assert lines[0] == f"Get Docker: {advice.install}"
    assert lines[2:] == [f"  r  {advice.native}", f"  a  {advice.attach}"]
    assert "type its URL" in advice.attach
