"""estimate: see docs/ARCHITECTURE.md."""
