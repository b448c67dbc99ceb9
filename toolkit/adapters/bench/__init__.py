"""bench: see docs/ARCHITECTURE.md."""
