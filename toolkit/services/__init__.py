"""The service layer: what the CLI and the wizard both do, written once (plan, launch, chat turns).

Front ends (``toolkit.cli*``, ``toolkit.tui``) call these functions and only render their results; the
functions combine the adapters of ``toolkit.adapters`` with the pure logic of ``toolkit.core``.
"""
