"""Turn failures into notifications that say what went wrong and what to do, never a traceback.

Every worker in the wizard ends in ``report_error`` when it fails: a ``GpulessError`` shows its one-line
message under a title in words (``TITLES``: never an internal class name) and what to do in the
wizard's keys (``ADVICE``: the wizard's map from error to advice; an error's own ``hint`` is the CLI's,
in flags, and is used only when it names none); anything else (a bug, or a library error an adapter
forgot to translate) shows its type and text with a pointer to the CLI, where the same step prints the
same error.
"""

from __future__ import annotations

import re

from textual.app import App

from toolkit.core.safe_text import terminal_safe

#: How long an error stays on screen; long enough to read a hint.
ERROR_TIMEOUT = 12.0

#: Notification titles by error class name; a class not listed takes its nearest listed base's.
TITLES: dict[str, str] = {
    "GpulessError": "Something went wrong",
    "UsageError": "Not accepted",
    "ProfileError": "Hardware profile problem",
    "UnknownModelError": "Unknown model",
    "ComposeFileExistsError": "compose.yaml already exists",
    "DockerError": "Docker problem",
    "DockerUnavailableError": "Docker is not available",
    "ImageError": "Image problem",
    "ContainerError": "Container problem",
    "PortInUseError": "Port in use",
    "OllamaError": "Ollama problem",
    "OllamaUnreachableError": "Ollama does not answer",
    "ModelNotFoundError": "Model not found",
    "KeyRefusedError": "Key refused",
    "RegistryUnreachableError": "Registry unreachable",
    "DiskFullError": "Disk full",
    "NotOllamaError": "Not an Ollama server",
    "ServerBusyError": "Server busy",
    "StreamError": "Answer broken off",
    "RequestTimeoutError": "No answer in time",
    "UnsafeTargetError": "Target refused",
    "HistoryError": "History problem",
    "ModelArchiveError": "Model archive refused",
    "ModelStoreError": "Models volume problem",
}


#: What to do in the wizard's keys, by error class name (a class not listed takes its nearest listed
#: base's): it stands in for the sentences of the error's own hint that name a command-line flag.
ADVICE: dict[str, str] = {
    "PortInUseError": "Press f (in Compose or Launch) to use the next free port, or type another Port in"
    " the Compose step's settings (3).",
    "ComposeFileExistsError": "Review the diff (d), then press shift+s to replace it (the old file is kept"
    " as a backup), or keep yours and skip this step.",
    "DockerUnavailableError": "Then press ctrl+s in the Launch step (4) again; without Docker, Launch"
    " offers r (run Ollama on this machine) and a (attach to an Ollama at a URL).",
    "OllamaUnreachableError": "Start a server in the Launch step (4), then come back to this step.",
    "NotOllamaError": "Start gpuless's own server in the Launch step (4).",
    "ModelNotFoundError": "Check the tag, pick another in the Model step (2), or start it in the Launch"
    " step (4), which pulls it.",
    "UnknownModelError": "Pick a model in the Model step (2), or type its Ollama tag there.",
    "RequestTimeoutError": "Wait a moment, then try again.",
    "ImageError": "Check the network, then press ctrl+s in the Launch step (4) again.",
}

#: A command-line flag (``--port``) or a command to run: advice the wizard's keys replace.
_FLAG = re.compile(r"(?<![\w-])--[a-z]|`gpuless ")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z])")


def advice(error: BaseException) -> str | None:
    """What to do about ``error`` in the wizard: the sentences of its hint that name no command-line flag,
    then, when a sentence was left out (or there was no hint), its ``ADVICE`` entry; a hint that is all
    flags with no entry to replace it is shown as the command line's."""
    hint = str(getattr(error, "hint", None) or "")
    parts = [part for part in _SENTENCE.split(hint) if part]
    kept = [part for part in parts if not _FLAG.search(part)]
    entry = next((ADVICE[k.__name__] for k in type(error).__mro__ if k.__name__ in ADVICE), None)
    if entry and len(kept) < max(len(parts), 1):
        kept.append(entry)
    if kept:
        return " ".join(kept)
    return f"(in a shell) {hint}" if hint else None


def describe_error(error: BaseException) -> tuple[str, str]:
    """The (title, body) of the notification for ``error``."""
    from toolkit.errors import GpulessError

    if isinstance(error, GpulessError):
        body = error.message
        what = advice(error)
        if what:
            body += f"\nWhat to do: {what}"
        title = next((TITLES[k.__name__] for k in type(error).__mro__ if k.__name__ in TITLES), "Error")
        return title, body
    text = str(error) or type(error).__name__
    return (
        "Unexpected error",
        f"{type(error).__name__}: {text}\nWhat to do: run the same step with the gpuless CLI for details.",
    )


def report_error(app: App[object], error: BaseException, *, step: str = "") -> None:
    """Show ``error`` as an error notification (safe to call from the app's thread only)."""
    title, body = describe_error(error)
    if step:
        title = f"{step}: {title}"
    app.notify(
        terminal_safe(body), title=terminal_safe(title), severity="error", timeout=ERROR_TIMEOUT, markup=False
    )
