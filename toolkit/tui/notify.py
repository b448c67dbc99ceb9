"""Turn failures into notifications that say what went wrong and what to do, never a traceback.

Every worker in the wizard ends in ``report_error`` when it fails: a ``GpulessError`` shows its one-line
message and its hint under a title in words (``TITLES``: never an internal class name); anything else
(a bug, or a library error an adapter forgot to translate) shows its type and text with a pointer to
the CLI, where the same step prints the same error.
"""

from __future__ import annotations

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


def describe_error(error: BaseException) -> tuple[str, str]:
    """The (title, body) of the notification for ``error``."""
    from toolkit.errors import GpulessError

    if isinstance(error, GpulessError):
        body = error.message
        if error.hint:
            body += f"\nWhat to do: {error.hint}"
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
