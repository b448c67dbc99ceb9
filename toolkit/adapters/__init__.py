"""Thin adapters that touch the world: probes, Docker, Ollama streaming, benchmark runner, history.

Each adapter translates the errors of the library it wraps into ``toolkit.errors``.
"""
