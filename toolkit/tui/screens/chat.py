"""Step 6, Chat: streamed answers rendered as Markdown with live tokens/s and TTFT.

The answer streams in an async worker (``OllamaClient.stream_chat``), so the screen keeps taking keys;
esc cancels the worker, which closes the HTTP stream and keeps the text so far. The figures are a
benchmark's (``toolkit.core.bench.metrics.answer_figures``: decode tok/s and TTFT, one definition each):
while streaming, approximated from chunk arrival times, then from the server's token count.

Thinking is off (``services.chat_turn.take_turn``'s default, as in ``gpuless chat``); for a model that thinks,
a line above the status says so, with the warning that other clients get thinking on unless they ask.

The text and the status line are redrawn at most every ``REDRAW_S`` rather than per token. On a laptop
whose cores all run the model, every redraw is CPU taken from decoding: redrawing per token (as
``MarkdownStream`` does, as fast as it can) halved the model's speed on the 2-core development VM.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Markdown, Select, Static
from textual.worker import Worker, WorkerState

from toolkit.core.bench.metrics import RequestTrace, answer_figures, request_metrics
from toolkit.core.catalog.thinking import chat_note, served_thinking_warning
from toolkit.core.conversation import Conversation
from toolkit.core.recommend.model_choice import default_model
from toolkit.core.safe_text import terminal_safe
from toolkit.tui import fmt
from toolkit.tui.plain import plain
from toolkit.tui.screens.base import LEAVE_FIELD, WizardScreen
from toolkit.tui.widgets.plain import Plain

if TYPE_CHECKING:
    from toolkit.adapters.ollama.client import Event

#: Options for chat answers: a bounded answer length keeps a runaway generation from running forever.
CHAT_OPTIONS = {"num_predict": 512}

#: Seconds between redraws of a streaming answer (about 7 per second still reads as live).
REDRAW_S = 0.15


class ChatScreen(WizardScreen):
    """Transcript on top, status line, prompt at the bottom."""

    STEP_ID = "chat"
    AUTO_FOCUS = "#chat-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop"),
        LEAVE_FIELD,
        Binding("ctrl+n", "new_chat", "New"),
        Binding("ctrl+r", "refresh_models", "Models"),
        Binding("ctrl+o", "connect", "Connect"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The model and messages; its rules (what a stopped answer keeps) are the REPL's too.
        self.conversation = Conversation("")
        self.url = ""
        self.last_trace: RequestTrace | None = None

    @property
    def history(self) -> list[dict[str, str]]:
        return self.conversation.messages

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("Model")
            yield Select[str]([], prompt="(no server yet)", id="chat-model", allow_blank=True)
        yield VerticalScroll(id="chat-log", classes="step-body")
        thinking = Plain("", id="chat-thinking", classes="warn-medium")
        thinking.display = False  # shown for a model that thinks
        yield thinking
        yield Plain("Type a question and press enter.", id="chat-status", classes="status")
        yield Input(
            placeholder="Ask something… (enter sends; esc stops an answer, or leaves)", id="chat-input"
        )

    def on_mount(self) -> None:
        self.watch(self.app, "engine", self.engine_changed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """esc is Stop while an answer streams, and leaves the field otherwise (the footer says which)."""
        if action == "stop":
            return self.is_streaming
        if action == "leave_field":
            return self.typing and not self.is_streaming
        return super().check_action(action, parameters)

    def engine_changed(self, engine: tuple[str, str] | None) -> None:
        self.url = engine[0] if engine else self.services.url
        self.load_models(engine[1] if engine else None)

    @property
    def model(self) -> str | None:
        value = self.query_one("#chat-model", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#chat-model")
    def model_switched(self) -> None:
        """Another model starts a new conversation: the old answers were another model's words."""
        model, before = self.model, self.conversation.model
        if model is None or model == before:
            return
        self.say_thinking(model)
        had_turns = bool(self.history)
        if had_turns:
            self.action_stop()
        self.conversation.switch(model)
        if before and had_turns:
            self.query_one("#chat-log", VerticalScroll).remove_children()
            self.set_status(f"Switched from {before} to {model}: new conversation. Type a question.")

    # --- models ---------------------------------------------------------------------------------

    def action_refresh_models(self) -> None:
        self.load_models(self.model)

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load_models(self, prefer: str | None) -> None:
        from toolkit.services.models import server_models

        world = self.wizard.world
        if self.wizard.engine is None:  # the server the wizard found, as the Benchmark step's
            self.url = world.url if world is not None else await asyncio.to_thread(self.services.resolve_url)
        names = await server_models(self.url, timeout=10.0, connect_timeout=2.0)
        select = self.query_one("#chat-model", Select)
        select.set_options([(plain(terminal_safe(name, one_line=True)), name) for name in names])
        # The blank entry stays pickable, so it must not claim there is no server.
        select.prompt = "(pick a model)" if names else "(no models yet)"
        if not names:
            self.set_status(f"{self.url} has no models yet: pull one in the Launch step (4).")
            return
        select.value = default_model(names, prefer) or names[0]
        self.set_status(f"Connected to {self.url}. Type a question and press enter.")

    @work(exclusive=True, group="thinking", exit_on_error=False)
    async def say_thinking(self, model: str) -> None:
        """Say, for a model that thinks, that this chat turns thinking off and other clients must too."""
        from toolkit.services.models import model_thinks

        line = self.query_one("#chat-thinking", Static)
        line.display = False
        thinks = await model_thinks(self.url, model, timeout=10.0, connect_timeout=2.0)
        if thinks and model == self.model:
            line.update(f"{chat_note(model, think=False)}\n{served_thinking_warning(model)}")
            line.display = True

    # --- chatting -------------------------------------------------------------------------------

    @on(Input.Submitted, "#chat-input")
    def send(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if not prompt:
            return
        if self.model is None:
            self.show_problem(
                "No model selected.",
                "What to do: shift+tab reaches the model list above the chat; pick one there. No models?"
                " Start a server in the Launch step (4), then press ctrl+r here.",
            )
            return
        if self.is_streaming:
            self.notify(
                "An answer is still streaming; press esc to stop it first.", severity="warning", markup=False
            )
            return
        event.input.value = ""
        log = self.query_one("#chat-log", VerticalScroll)
        log.mount(Plain(prompt, classes="msg-user"))
        answer = Markdown("", classes="msg-bot")
        log.mount(answer)
        log.anchor()  # follow the answer as it grows, until the user scrolls up
        self.stream_answer(prompt, answer)

    @property
    def is_streaming(self) -> bool:
        return any(w.group == "chat" and w.is_running for w in self.workers)

    @work(exclusive=True, group="chat", exit_on_error=False)
    async def stream_answer(self, question: str, answer: Markdown) -> None:
        from toolkit.adapters.ollama.client import Chunk, OllamaClient, Recorder
        from toolkit.services.chat_turn import take_turn

        model = self.conversation.model
        t_sent = time.perf_counter()
        recorder = Recorder(t_sent)
        pending: list[str] = []
        last_redraw = 0.0
        self.set_status(f"{model}: waiting for the first token…")

        async def redraw() -> None:
            nonlocal last_redraw
            last_redraw = time.perf_counter()
            if pending:
                text = "".join(pending)
                pending.clear()
                await answer.append(text)
            if recorder.times:
                live = answer_figures(recorder.partial(), live=True)
                self.set_status(f"{model}: streaming · {live} (esc stops)")

        async def tee(events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
            async for event in events:
                if isinstance(event, Chunk):  # the server's words: no escape sequence reaches the terminal
                    pending.append(terminal_safe(event.text))
                yield event  # the recorder times it before any redraw
                if pending and time.perf_counter() - last_redraw >= REDRAW_S:
                    await redraw()

        try:
            async with OllamaClient(self.url) as client:
                trace = await take_turn(
                    client, self.conversation, question, options=CHAT_OPTIONS, recorder=recorder, tee=tee
                )
        except asyncio.CancelledError:
            await redraw()
            await answer.append("\n\n*(stopped)*")
            self.set_status(f"{model}: stopped · {answer_figures(recorder.partial(), live=True)}")
            raise
        except BaseException:
            await redraw()
            self.set_status(f"{model}: the answer broke off (what happened is said below).")
            raise
        await redraw()
        self.last_trace = trace
        total = fmt.seconds(request_metrics(trace).total_s)
        self.set_status(f"{model}: {answer_figures(trace)} · total {total}")

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        if worker.group == "chat":
            self.refresh_bindings()  # esc: Stop while it streams, Leave field after
        if worker.group == "models" and state == WorkerState.ERROR:
            self.set_status(f"No server at {self.url}: start one in the Launch step (4), then press ctrl+r.")

    def action_stop(self) -> None:
        """Stop the answer that is streaming; with none, leave the prompt so step keys work again."""
        if self.is_streaming:
            self.workers.cancel_group(self, "chat")
        else:
            self.set_focus(None)

    def action_connect(self) -> None:
        """The Connect panel for the server and model of this chat."""
        self.wizard.action_connect(self.url, self.model or "")

    def action_new_chat(self) -> None:
        self.action_stop()
        self.conversation.clear()
        self.query_one("#chat-log", VerticalScroll).remove_children()
        self.set_status("New chat. Type a question and press enter.")
        self.query_one("#chat-input", Input).focus()

    def set_status(self, text: str) -> None:
        self.query_one("#chat-status", Static).update(text)


SCREEN = ChatScreen
