"""models: see docs/ARCHITECTURE.md."""
