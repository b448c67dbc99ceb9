"""One exception tree for everything gpuless can fail at.

Adapters in ``toolkit.adapters`` translate library errors (docker-py, httpx, ollama, sqlite, OS errors)
into these classes, so the CLI and the TUI handle failure in one place: print ``message`` and
``hint`` and exit with ``exit_code``, never a traceback.

    GpulessError                      exit 1
    ├── UsageError                    exit 2: bad input, fixed by the user
    │   ├── ProfileError              a hardware profile that cannot be read
    │   ├── UnknownModelError         a model the catalog does not know
    │   ├── ComposeFileExistsError    a file that would be overwritten (carries the diff)
    │   ├── UnsafeTargetError         a server gpuless may not send traffic to
    │   └── ModelArchiveError         a model archive or folder that fails its checks
    ├── DockerError                   the Docker engine
    │   ├── DockerUnavailableError    no engine answers
    │   ├── ImageError                an image missing or not pulled
    │   └── ContainerError            a container refused, or held by another run
    │       └── PortInUseError        the port is taken
    ├── OllamaError                   an Ollama server
    │   ├── OllamaUnreachableError    nothing answers
    │   ├── ModelNotFoundError        no such model (on the server or the registry)
    │   ├── RegistryUnreachableError  the registry could not be reached
    │   ├── DiskFullError             no space for the pull
    │   ├── NotOllamaError            something else answers
    │   ├── KeyRefusedError           a share refused the key (401)
    │   ├── ServerBusyError           the server's queue is full (503)
    │   ├── StreamError               a stream broke off or broke the protocol
    │   └── RequestTimeoutError       no answer within the time allowed
    ├── ModelStoreError               the models volume
    └── HistoryError                  the benchmark history file
"""

from __future__ import annotations


class GpulessError(Exception):
    """Base of every error gpuless reports to a user.

    ``message`` says what went wrong in one line; ``hint`` says what to do about it.
    ``exit_code`` is what the CLI exits with (2 for bad input, 1 otherwise).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- bad input (exit 2) ---------------------------------------------------------------------------


class UsageError(GpulessError):
    """The user asked for something invalid: a bad option value, an unknown name, a malformed file."""

    exit_code = 2


class ProfileError(UsageError):
    """A hardware profile or catalog file could not be read or does not validate."""


class UnknownModelError(UsageError):
    """A model name or tag that is not in the catalog."""


class ComposeFileExistsError(UsageError):
    """Refusing to overwrite an existing compose file without ``--force``; ``diff`` shows the change."""

    def __init__(self, message: str, hint: str | None = None, diff: str = "") -> None:
        super().__init__(message, hint)
        self.diff = diff


# --- the machine --------------------------------------------------------------------------------


# --- Docker ---------------------------------------------------------------------------------------


class DockerError(GpulessError):
    """Talking to the Docker engine failed."""


class DockerUnavailableError(DockerError):
    """The Docker engine is not reachable (not installed, not running, or no permission)."""


class ImageError(DockerError):
    """An image could not be pulled or found."""


class ContainerError(DockerError):
    """A container could not be created, started, or did not become healthy."""


class PortInUseError(ContainerError):
    """The port Ollama should listen on is already taken by another process."""


# --- Ollama / OpenAI-compatible servers ---------------------------------------------------------


class OllamaError(GpulessError):
    """Talking to an Ollama (or OpenAI-compatible) server failed."""


class OllamaUnreachableError(OllamaError):
    """Nothing answers at the server URL, or the connection dropped."""


class ModelNotFoundError(OllamaError):
    """The server does not have the model (HTTP 404 or a pull that ends in an error)."""


class RegistryUnreachableError(OllamaError):
    """A model pull could not reach the registry (network, DNS, proxy, TLS); the name may be right."""


class DiskFullError(OllamaError):
    """A model pull ran out of disk space."""


class NotOllamaError(OllamaError):
    """The server answered, but not as Ollama does (a 404 without Ollama's JSON error body)."""


class KeyRefusedError(OllamaError):
    """The server wants a key it was not given, or refused the one sent (HTTP 401: a gpuless share)."""


class ServerBusyError(OllamaError):
    """The server's queue is full (HTTP 503)."""


class StreamError(OllamaError):
    """A stream broke: a mid-stream error line, a malformed line, or the server died mid-answer."""


class RequestTimeoutError(OllamaError):
    """The server did not answer within the time limit."""


class UnsafeTargetError(UsageError):
    """A benchmark was pointed at an address gpuless will not send load to."""


# --- model files (``gpuless models``) ------------------------------------------------------------


class ModelArchiveError(UsageError):
    """A model archive or folder is damaged, incomplete or unsafe; it was refused before anything was
    written."""


class ModelStoreError(GpulessError):
    """The models volume could not be read or written (a missing model, too little space, a failed copy)."""


# --- local state ----------------------------------------------------------------------------------


class HistoryError(GpulessError):
    """The benchmark history store could not be read or written."""
