"""What the wizard's Launch step says when no Docker engine answers: how to get one on this OS, and the
two ways to go on without it (run Ollama natively, or attach to one that already runs).

The CLI's advice names flags (``--runtime native``, ``--url``); the wizard has keys instead, so its
text is kept here, apart from the engine adapter, and says only what can be done on screen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoDockerAdvice:
    """The no-Docker panel of the Launch step.

    Attributes:
        install: how to install and start a Docker engine on this OS (one line).
        native: what ``r`` does (run ``ollama serve`` here), or how to install Ollama first.
        attach: what ``a`` does (use an Ollama that already answers at a URL).
    """

    install: str
    native: str
    attach: str

    def lines(self) -> list[str]:
        return [
            f"Get Docker: {self.install}",
            "Or go on without Docker:",
            f"  r  {self.native}",
            f"  a  {self.attach}",
        ]


def no_docker_advice(system: str, ollama_on_path: bool) -> NoDockerAdvice:
    """The advice for ``system`` ("linux", "darwin", "windows"; any case) and whether the ``ollama``
    program is installed."""
    system = system.lower()
    if system == "darwin":
        install = (
            "install Docker Desktop (docker.com/products/docker-desktop) or Colima "
            "(`brew install colima docker`, then `colima start`), then press ctrl+s again."
        )
        download = "ollama.com/download (the Mac app)"
    elif system == "windows":
        install = (
            "install Docker Desktop with the WSL 2 backend (docker.com/products/docker-desktop), start it "
            "and wait for 'Engine running', then press ctrl+s again."
        )
        download = "ollama.com/download (the Windows installer)"
    else:
        install = (
            "install the Docker engine (docs.docker.com/engine/install, or your distribution's docker.io "
            "package), start it (`sudo systemctl start docker`), allow yourself its socket "
            "(`sudo usermod -aG docker $USER`, then log in again), then press ctrl+s again."
        )
        download = "ollama.com/download (`curl -fsSL https://ollama.com/install.sh | sh`)"
    if ollama_on_path:
        native = "run Ollama on this machine: gpuless starts `ollama serve` with this plan's settings."
    else:
        native = f"run Ollama on this machine: install it first from {download}, then press r."
    attach = "attach to an Ollama that already runs: type its URL in the field below and press Enter."
    return NoDockerAdvice(install=install, native=native, attach=attach)
