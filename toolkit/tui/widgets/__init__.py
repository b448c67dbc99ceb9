"""Widgets the wizard screens share: the step bar, the benchmark chart, chat messages."""
