"""Pure logic over data: parsing, catalog, estimates, recommendation, compose rendering, statistics.

Nothing in this package does I/O, reads a clock, or imports Textual or Docker; a test enforces it.
"""
