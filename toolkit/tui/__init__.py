"""The interactive wizard: a Textual app over the same core and engine code the CLI uses.

``toolkit.tui.app.create_app`` builds it; ``run_app`` is what ``gpuless`` with no subcommand runs.
"""
