"""machine: see docs/ARCHITECTURE.md."""
