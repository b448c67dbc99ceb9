"""docker: see docs/ARCHITECTURE.md."""
