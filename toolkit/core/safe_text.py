"""Text from elsewhere made safe to print on a terminal: the one sanitiser.

A server (or a history file it once filled) decides what model names, error messages and answers
contain. Printed raw, an escape sequence can recolour, move the cursor, retitle the window, clear the
screen or hide text — so every such string passes through ``terminal_safe`` before it reaches the
terminal. Escape sequences (CSI, OSC, DCS and the other string controls, two-byte ESC forms) are
removed whole; every other C0/C1 control character and DEL is removed too, except newline and tab,
and so are the Unicode bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a
terminal show text in another order than it is.

Outside text is stored as it came (it is data: a model name must stay the name the server knows) and
passes through here where it is shown.
"""

from __future__ import annotations

import re

# ESC [ ... final byte (CSI); ESC ] / P / X / ^ / _ ... up to BEL or ST (OSC, DCS, SOS, PM, APC); the
# 8-bit forms of both; then any other two-byte ESC sequence; then lone control characters.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def terminal_safe(text: str, *, one_line: bool = False) -> str:
    """``text`` without escape sequences and control characters (newline and tab kept).

    ``one_line`` also turns newlines and tabs into single spaces and collapses runs of whitespace, for
    a message that must stay on one line (an error, a table cell).
    """
    cleaned = _SEQUENCE.sub("", text)
    if one_line:
        cleaned = " ".join(cleaned.split())
    return cleaned
