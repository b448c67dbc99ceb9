"""recommend: see docs/ARCHITECTURE.md."""
