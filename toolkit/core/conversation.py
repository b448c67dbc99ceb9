"""A chat conversation and its rules, the same in the terminal REPL and the wizard's Chat step.

What a turn leaves behind is decided here once: a finished answer is kept; a stopped or broken answer
keeps what had arrived; a question that got no answer at all is dropped, so it is not sent twice; and
another model starts a new conversation (the old answers were another model's words).
"""

from __future__ import annotations


class Conversation:
    """The model and the messages so far (Ollama's ``messages``: role and content).

    Attributes:
        model: the model every turn is sent to.
        messages: the turns so far, oldest first; what the next request sends.
    """

    def __init__(self, model: str, messages: list[dict[str, str]] | None = None) -> None:
        self.model = model
        self.messages: list[dict[str, str]] = messages if messages is not None else []

    def ask(self, question: str) -> None:
        """A new question, sent with everything before it."""
        self.messages.append({"role": "user", "content": question})

    def answered(self, text: str) -> None:
        """The answer to the last question."""
        self.messages.append({"role": "assistant", "content": text})

    def broke_off(self, partial: str) -> bool:
        """The answer stopped early (Ctrl-C, esc, a server error): keep what arrived, or, if nothing
        did, drop the question. True when something was kept."""
        if partial:
            self.answered(partial)
            return True
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages.pop()
        return False

    def switch(self, model: str) -> bool:
        """Talk to ``model`` from now on; another model starts a new conversation. True if it changed."""
        if model == self.model:
            return False
        self.model = model
        self.messages.clear()
        return True

    def clear(self) -> None:
        self.messages.clear()

    def to_markdown(self) -> str:
        lines = [f"# gpuless chat with {self.model}", ""]
        for message in self.messages:
            who = "You" if message["role"] == "user" else "Assistant"
            lines += [f"**{who}:**", "", message["content"].rstrip(), ""]
        return "\n".join(lines)
