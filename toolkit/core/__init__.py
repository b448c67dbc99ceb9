"""Pure logic over data, in domain folders read from the ground up: catalog, machine and wire; then
compose and estimate; then recommend, tune and models; then share and bench; then pool
(tests/test_layers.py holds the order). Shared helpers (units, stats, fields, safe_text, target,
conversation) sit flat.

Nothing in this package does I/O, reads a clock, or imports Textual or Docker; a test enforces it.
"""
