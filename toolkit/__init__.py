"""gpuless: run a local LLM well on a laptop with no GPU.

The package is split by what touches the world: ``toolkit.core`` is pure logic over data,
``toolkit.adapters`` holds the thin adapters (probes, Docker, Ollama, history), ``toolkit.tui``
the Textual wizard and ``toolkit.cli`` the plain command line.
"""

__version__ = "0.1.0"
