"""``python -m toolkit`` is the same as the ``gpuless`` command."""

from toolkit.cli.main import main

if __name__ == "__main__":
    main()
