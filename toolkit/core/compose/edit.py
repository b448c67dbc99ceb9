"""The tuned settings rewritten in the user's compose file, every other byte of it kept.

``gpuless tune`` used to render the whole file anew: the user's extra environment variables, comments
and other services (a web UI) were lost. Here only what differs between the file gpuless would write
for the running configuration and the one it would write for the winner is changed, where it stands in
the user's text: a changed block found exactly once is replaced; otherwise line by line (a setting
found exactly once; a gpuless label by its key; a comment the user rewrote stays as the user wrote it).
The result is read back and must describe the winner, or nothing is written. Pure: text in, text out.
"""

from __future__ import annotations

import difflib
from dataclasses import fields

from toolkit.core.compose.read import read_compose_text
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import COMMENT_ONLY_FIELDS, OllamaServiceSpec
from toolkit.errors import UsageError

_LABEL_PREFIX = "io.gpuless."
_CONTEXT = 3  # unchanged lines around a change that may be used to find it


def edit_in_place(text: str, old: OllamaServiceSpec, new: OllamaServiceSpec) -> str:
    """``text`` (a compose file describing ``old``) with the lines that differ for ``new`` changed.

    Raises UsageError naming the line that cannot be placed, or the setting the result would not say."""
    before = [line.rstrip("\r\n") for line in render_compose_yaml(old).splitlines()]
    after = [line.rstrip("\r\n") for line in render_compose_yaml(new).splitlines()]
    lines = text.splitlines(keepends=True)
    ending = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_block, new_block = before[i1:i2], after[j1:j2]
        if _replace_block(lines, before, (i1, i2), new_block, ending):
            continue
        olds = [line for line in old_block if not _comment(line)]
        news = [line for line in new_block if not _comment(line)]
        if len(olds) != len(news):
            raise UsageError(f"cannot find where to change {(olds or news)[0].strip()!r} in the file")
        for was, now in zip(olds, news, strict=True):
            _replace_line(lines, was, now, ending)
    result = "".join(lines)
    _check(text, result, new)
    return result


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#") or not line.strip()


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _replace_block(
    lines: list[str], before: list[str], span: tuple[int, int], new_block: list[str], ending: str
) -> bool:
    """Replace ``before[i1:i2]`` by ``new_block`` where it stands once in ``lines``, with up to
    ``_CONTEXT`` unchanged lines around it to tell it apart (another service may say `mem_limit` too)."""
    i1, i2 = span
    for context in range(_CONTEXT + 1):
        lo, hi = max(i1 - context, 0), min(i2 + context, len(before))
        if lo == hi:
            continue
        at = _find(lines, before[lo:hi])
        if at is not None:
            replacement = [*before[lo:i1], *new_block, *before[i2:hi]]
            lines[at : at + hi - lo] = [line + ending for line in replacement]
            return True
    return False


def _find(lines: list[str], block: list[str]) -> int | None:
    """Where ``block`` stands in ``lines`` when it stands there exactly once."""
    size = len(block)
    hits = [i for i in range(len(lines) - size + 1) if [_bare(x) for x in lines[i : i + size]] == block]
    return hits[0] if len(hits) == 1 else None


def _replace_line(lines: list[str], was: str, now: str, ending: str) -> None:
    if was == now:
        return
    hits = [i for i, line in enumerate(lines) if _bare(line) == was]
    if not hits and was.strip().startswith(_LABEL_PREFIX):  # a label the user's edit left stale
        key = was.split(":", 1)[0] + ":"
        hits = [i for i, line in enumerate(lines) if _bare(line).startswith(key)]
    if len(hits) > 1:
        raise UsageError(f"{was.strip()!r} stands {len(hits)} times in the file; cannot tell which to change")
    if hits:  # a line the file does not have (a service the user removed) is left out
        lines[hits[0]] = now + (lines[hits[0]][len(_bare(lines[hits[0]])) :] or ending)


def _check(text: str, result: str, new: OllamaServiceSpec) -> None:
    """The edited file must describe ``new`` and carry the same user additions as before."""
    read = read_compose_text(result)
    wrong = [
        f.name
        for f in fields(OllamaServiceSpec)
        if f.name not in COMMENT_ONLY_FIELDS and getattr(read.spec, f.name) != getattr(new, f.name)
    ]
    if wrong:
        raise UsageError(f"after the edit the file would not say {', '.join(wrong)} as tuned")
    before = read_compose_text(text).unsupported
    if read.unsupported != before:
        changed = "; ".join(item for item in read.unsupported if item not in before)
        raise UsageError(f"the file's own lines cannot say the tuned settings ({changed})")
