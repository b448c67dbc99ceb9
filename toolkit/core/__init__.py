"""Pure logic over data, in domain folders read from the ground up: catalog and machine, then compose and
estimate, then recommend and tune, then bench (tests/test_layers.py holds the order); shared helpers
(units, stats, wire, safe_text, target, fields, conversation) sit flat.

Nothing in this package does I/O, reads a clock, or imports Textual or Docker; a test enforces it.
"""
