"""The ``gpuless`` command line (click): ``group`` holds the command group, one module per command
family registers on it, and ``main`` is the entry point that imports them all."""
