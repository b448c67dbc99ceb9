"""Run the gpuless CLI in this process, as the tests of its commands do: exit code, stdout, stderr."""

from __future__ import annotations

import pytest

from toolkit.cli.main import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
