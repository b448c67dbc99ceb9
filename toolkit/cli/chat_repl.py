"""The REPL of ``gpuless chat``: a streaming multi-turn chat in the plain terminal.

Tokens are shown as they arrive with a live tokens/s line. On a terminal the answer is rendered as
Markdown (rich) while it streams; when stdout is a pipe the raw text is written as it comes, so the
transcript stays greppable. Ctrl-C stops the current answer (the partial answer stays in the
conversation) and returns to the prompt; at the prompt, Ctrl-D or ``/exit`` leaves.
Commands: ``/model NAME`` (another model: a new conversation), ``/clear``, ``/save [FILE]``, ``/help``,
``/exit``. The turn itself (what is sent and kept) is ``toolkit.services.chat_turn.take_turn``, as in the
wizard. What the server sends (answers, model names, errors) is shown through ``terminal_safe``: no
escape sequence reaches the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from toolkit.adapters.ollama.client import Chunk, OllamaClient, Recorder
from toolkit.core.bench.metrics import RequestTrace, answer_figures
from toolkit.core.catalog.thinking import chat_note
from toolkit.core.conversation import Conversation
from toolkit.core.safe_text import terminal_safe
from toolkit.core.wire import Api
from toolkit.errors import GpulessError, ModelNotFoundError
from toolkit.services.chat_turn import take_turn

T = TypeVar("T")

HELP = """Commands:
  /model NAME   switch to another model the server has: a new conversation (/model alone shows it)
  /clear        forget the conversation so far
  /save [FILE]  write the conversation as Markdown (default: a new file in the data directory)
  /exit         leave (also /bye, /quit or Ctrl-D)
Ctrl-C stops the current answer and keeps you in the chat."""

PROMPT = ">>> "


class _LiveAnswer:
    """The answer so far as Markdown plus a speed line, built only when Live redraws (8 times a second)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Markdown(terminal_safe("".join(self.recorder.parts)))
        yield Text(answer_figures(self.recorder.partial(), live=True), style="dim")


def stats_line(trace: RequestTrace, stopped: bool = False) -> str:
    """``[128 tokens · decode 118.4 tok/s · TTFT 0.21 s]``: the figures a benchmark reports, by the same
    definitions (``benchmetrics.answer_figures``)."""
    parts = [answer_figures(trace)]
    reasoning = len(trace.reasoning_times)
    if reasoning:
        parts.append(f"after {reasoning} reasoning chunks")
    if stopped:
        parts.append("stopped")
    return "[" + " · ".join(parts) + "]"


class ChatRepl:
    """The read-answer loop. ``stdin``/``stdout`` are injectable so tests can drive it.

    Args:
        url / api / model: the server and the model to talk to.
        save_dir: where ``/save`` without a file name writes.
        options: extra Ollama options sent with every request (e.g. ``num_predict``).
        timeout: seconds to wait for the next bytes of an answer.
        think: let a thinking model think (off by default; its reasoning is not shown).
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api: Api = "ollama",
        save_dir: Path,
        options: dict[str, Any] | None = None,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        timeout: float = 300.0,
        think: bool = False,
    ) -> None:
        self.think = think
        self.url = url
        self.api: Api = api
        self.conversation = Conversation(model)
        self.save_dir = save_dir
        self.options = options or {}
        self.timeout = timeout
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.loop = asyncio.new_event_loop()
        self.client: OllamaClient | None = None

    # --- plumbing -----------------------------------------------------------------------------------

    def _client(self) -> OllamaClient:
        if self.client is None:
            self.client = OllamaClient(self.url, self.api, timeout=self.timeout)
        return self.client

    def settle(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end on the REPL's loop. Ctrl-C (or a signal) raised inside the loop
        cancels it in its own task and waits for it to close its response, then goes on up: left
        pending, its generators were closed later from the wrong place, which printed "generator
        didn't stop after athrow()" tracebacks."""
        task = self.loop.create_task(coro)
        try:
            return self.loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):  # the first interruption is the one reported
                    self.loop.run_until_complete(task)
            raise

    def close(self) -> None:
        if self.client is not None:
            self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def error(self, error: GpulessError) -> None:
        self.err.print(
            f"gpuless: error: {terminal_safe(error.message, one_line=True)}", markup=False, style="red"
        )
        if error.hint:
            self.err.print(f"  hint: {terminal_safe(error.hint, one_line=True)}", markup=False)

    def check_model(self, model: str) -> None:
        """ModelNotFoundError unless the server lists ``model`` (``:latest`` may be left out)."""
        names = self.settle(self._client().list_models())
        if model in names or f"{model}:latest" in names:
            return
        listed = terminal_safe(", ".join(names), one_line=True) or "none"
        raise ModelNotFoundError(
            f"model '{model}' not found on {self._client().url}",
            hint=f"Models there: {listed}.",
        )

    def _read(self) -> str | None:
        """One line from the user; None at end of input."""
        if self.stdin.isatty():
            try:
                return input(PROMPT)
            except EOFError:
                return None
        # Piped input is not echoed by a terminal: write it after the prompt so the transcript reads
        # like a session (">>> question", then the answer on its own line).
        line = self.stdin.readline()
        self.stdout.write(PROMPT + (line.rstrip("\n") + "\n" if line else ""))
        self.stdout.flush()
        return None if line == "" else line.rstrip("\n")

    # --- commands -----------------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        """Run a ``/command``; False means leave the chat."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        if name in ("/exit", "/bye", "/quit"):
            return False
        if name == "/help":
            self.console.print(HELP, markup=False)
        elif name == "/clear":
            self.conversation.clear()
            self.console.print("(conversation cleared)", markup=False)
        elif name == "/model":
            if not arg:
                shown = terminal_safe(self.conversation.model, one_line=True)
                self.console.print(f"model: {shown}", markup=False)
            else:
                try:
                    self.check_model(arg)
                except GpulessError as error:
                    self.error(error)
                else:
                    fresh = self.conversation.switch(arg) and " (a new conversation)"
                    shown = terminal_safe(arg, one_line=True)
                    self.console.print(f"(now talking to {shown}{fresh or ''})", markup=False)
        elif name == "/save":
            self.save(arg)
        else:
            self.console.print(f"unknown command {name}; /help lists them", markup=False)
        return True

    def save(self, arg: str) -> None:
        if arg:
            path = Path(arg).expanduser()
        else:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.save_dir / f"chat-{stamp}.md"
        if path.exists():
            self.err.print(f"gpuless: error: {path} exists; not overwriting it", markup=False, style="red")
            self.err.print("  hint: give another file name: /save FILE", markup=False)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.conversation.to_markdown(), encoding="utf-8")
        except OSError as error:
            self.err.print(
                f"gpuless: error: cannot write {path}: {error.strerror}", markup=False, style="red"
            )
            return
        self.console.print(f"(saved {len(self.conversation.messages)} messages to {path})", markup=False)

    # --- one answer ---------------------------------------------------------------------------------

    async def _answer(
        self, question: str, recorder: Recorder, on_chunk: Callable[[Chunk], None]
    ) -> RequestTrace:
        return await take_turn(
            self._client(), self.conversation, question, options=self.options, recorder=recorder,
            on_chunk=on_chunk, think=self.think,
        )  # fmt: skip

    def answer(self, question: str) -> None:
        """Send ``question``, stream the answer; Ctrl-C stops it and keeps the part already shown (the
        conversation's rules are ``take_turn``'s)."""
        recorder = Recorder(time.perf_counter())
        live_mode = self.console.is_terminal
        live: Live | None = None

        def on_chunk(chunk: Chunk) -> None:
            if live is None:
                self.stdout.write(terminal_safe(chunk.text))
                self.stdout.flush()
            # In a terminal, Live redraws _LiveAnswer at its own pace: parsing the Markdown per token
            # would cost CPU the model needs, more the longer the answer.

        task = self.loop.create_task(self._answer(question, recorder, on_chunk))
        installed = _install_sigint(self.loop, task)
        stopped = False
        trace: RequestTrace | None = None
        try:
            if live_mode:
                view = _LiveAnswer(recorder)
                live = Live(view, console=self.console, refresh_per_second=8, vertical_overflow="visible")
                live.start()
            trace = self.loop.run_until_complete(task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            stopped = True
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, GpulessError):
                    self.loop.run_until_complete(task)
        except GpulessError as error:
            if live is not None:
                live.stop()
                live = None
            self.stdout.write("\n")
            self.error(error)
            if not recorder.parts:
                return  # nothing came back: take_turn forgot the question
            stopped = True
        finally:
            if installed:
                self.loop.remove_signal_handler(signal.SIGINT)
            if live is not None:
                live.update(Group(Markdown(terminal_safe("".join(recorder.parts)))))
                live.stop()
        final = trace if trace is not None else recorder.partial()
        if not live_mode:
            self.stdout.write("\n")
        self.console.print(stats_line(final, stopped), style="dim", markup=False)

    # --- the loop -----------------------------------------------------------------------------------

    def _say_thinking(self) -> None:
        """Say whether the model thinks and what this chat does about it (one dim line)."""
        if self.loop.run_until_complete(self._client().thinks(self.conversation.model)):
            self.console.print(
                terminal_safe(chat_note(self.conversation.model, self.think)), style="dim", markup=False
            )

    def run(self) -> int:
        self.console.print(
            terminal_safe(
                f"Chatting with {self.conversation.model} at {self._client().url}. /help for commands."
            ),
            markup=False,
        )
        self._say_thinking()
        try:
            while True:
                try:
                    line = self._read()
                except KeyboardInterrupt:
                    self.stdout.write("\n(Ctrl-D or /exit to leave)\n")
                    continue
                if line is None:
                    self.stdout.write("\n")
                    return 0
                if not line.strip():
                    continue
                if line.startswith("/"):
                    if not self.command(line):
                        return 0
                    continue
                self.answer(line)
        finally:
            self.close()


def _install_sigint(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> bool:
    """Make Ctrl-C cancel ``task`` instead of raising inside the event loop (Unix); elsewhere
    KeyboardInterrupt reaches ``run_until_complete`` and is handled the same way."""
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
