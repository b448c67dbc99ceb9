"""A native ``ollama serve`` (no Docker) after it was started: its record, what it runs with, its restarts.

``toolkit.adapters.ollama.native`` starts or attaches to the server; ``record`` remembers which process
gpuless started (so ``verify``, ``status``, ``tune``, ``bench`` and ``connect`` find it again),
``readback`` reads what took effect, ``target`` restarts it for ``gpuless tune``.
"""
