"""tune: see docs/ARCHITECTURE.md."""
