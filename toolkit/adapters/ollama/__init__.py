"""ollama: see docs/ARCHITECTURE.md."""
