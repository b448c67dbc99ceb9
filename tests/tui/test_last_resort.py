"""Issue 20 item 11: an exception inside the wizard ends it the way one ends a command: one line on the
terminal, exit code 1, the traceback in a crash log (toolkit.cli.main's last-resort handler), not
Textual's full traceback with exit 0.

The wizard runs as a user runs it, in a pseudo-terminal; a bug is planted in a key binding's action
(as the Textual bug found was: Ctrl+P then PageDown before the palette fills) and the key pressed.
"""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from pathlib import Path

PLANTED = """
import sys
from toolkit.tui.app import GpulessApp
def broken(self):
    raise RuntimeError("a planted bug\\x1b[2J in the wizard")
GpulessApp.action_help = broken
from toolkit.cli.main import main
main([])
"""


def _read_until_exit(fd: int, pid: int, keys: bytes, within: float) -> tuple[bytes, int]:
    out, sent = b"", False
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        if not sent and b"gpuless" in out and time.monotonic() > deadline - within + 3:
            os.write(fd, keys)
            sent = True
    _, status = os.waitpid(pid, 0)
    return out, os.waitstatus_to_exitcode(status)


def test_item11_an_exception_in_the_wizard_is_one_line_a_crash_log_and_exit_1(tmp_path: Path) -> None:
    env = {**os.environ, "GPULESS_DATA_DIR": str(tmp_path / "data"),
           "GPULESS_CACHE_DIR": str(tmp_path / "cache"), "TERM": "xterm-256color",
           "GPULESS_OLLAMA_URL": "http://127.0.0.1:9"}  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:  # the child: the wizard with its bug
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-c", PLANTED], env)
    out, code = _read_until_exit(fd, pid, b"?", within=60)
    os.close(fd)
    text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]", "", out.decode("utf-8", "replace"))
    assert code == 1, text[-2000:]
    assert "Traceback" not in text and "RuntimeError(" not in text
    lines = [line for line in text.splitlines() if "gpuless: " in line]
    assert len(lines) == 1, repr(text[-600:])
    line = lines[0][lines[0].index("gpuless: ") :]
    assert line.startswith("gpuless: internal error: RuntimeError: a planted bug in the wizard; details in ")
    log = Path(line.rsplit("details in ", 1)[1].strip())
    assert log.parent == tmp_path / "cache" and "Traceback" in log.read_text()
