"""The one sanitiser (``toolkit.core.safe_text``): each kind of sequence a hostile server sends goes
whole, the text around it stays."""

from __future__ import annotations

import pytest

from toolkit.core.safe_text import terminal_safe

CASES = [
    ("evil\x1b]0;PWNED-TITLE\x07\x1b[31mRED", "evilRED"),  # OSC ended by BEL, then CSI
    ("a\x1b]0;title\x1b\\b", "ab"),  # OSC ended by ST
    ("a\x9b31mb", "ab"),  # 8-bit CSI
    ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel) ended by ST
    ("a\x90payload\x9cb", "ab"),  # 8-bit DCS and ST
    ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # a hyperlink keeps its text
    ("a\x1b[?1049hb\x1b7\x1bc", "ab"),  # private CSI, two-byte ESC forms
    ("a\x85b\x7fc\x00d\re", "abcde"),  # C1 NEL, DEL, NUL, CR
    ("abc\u202edcba", "abcdcba"),  # a bidi override
    ("x\x1b", "x"),  # a lone ESC at the end
]


@pytest.mark.parametrize(("text", "shown"), CASES)
def test_sequences_go_whole(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_newline_and_tab_stay_unless_one_line() -> None:
    assert terminal_safe("a\n\tb") == "a\n\tb"
    assert terminal_safe("a\n\tb  c", one_line=True) == "a b c"
