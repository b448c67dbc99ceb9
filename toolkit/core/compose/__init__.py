"""compose: see docs/ARCHITECTURE.md."""
