"""What an app needs to talk to the local Ollama: its URLs, the model name, environment lines, snippets.

Hackathon code usually speaks the OpenAI API, which Ollama also serves under ``/v1``; its clients need
a base URL, a model name and a non-empty API key (Ollama ignores the key). Every snippet turns thinking
off (``reasoning_effort: "none"``; ``think: false`` on the native API): Ollama turns it on for a model that
can think whenever a request does not say (``core.catalog.thinking``), and a non-thinking model ignores
it. ``gpuless connect`` and the
wizard's Connect panel both show what ``connect_info`` builds here, so the two never disagree.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

#: The API key the snippets use: OpenAI clients refuse an empty one, Ollama ignores whatever is sent.
API_KEY = "ollama"

#: The question every snippet asks.
PROMPT = "Say hello in five words."


@dataclass(frozen=True)
class Snippet:
    """One copy-ready piece of text.

    Attributes:
        id: short name used by ``gpuless connect --snippet`` and the JSON output ("curl", "python", ...).
        title: heading shown above it.
        setup: what to install first (one line; empty when nothing is needed).
        text: the text to copy, ending with a newline.
    """

    id: str
    title: str
    setup: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "setup": self.setup, "text": self.text}


@dataclass(frozen=True)
class ConnectInfo:
    """How to reach one model on one Ollama server.

    Attributes:
        ollama_url: the server's native API root, e.g. ``http://127.0.0.1:11434`` (Ollama clients,
            ``OLLAMA_HOST``).
        openai_base_url: the OpenAI-compatible root, ``ollama_url`` + ``/v1`` (OpenAI clients' base URL).
        model: the model name to send, as the server lists it.
        api_key: what to pass as the OpenAI API key (any non-empty value works).
        env: environment variables, in order, for a ``.env`` file or ``export``.
        snippets: env (shell), curl, Python ``openai`` and JavaScript ``openai`` examples, in that order.
        thinks: the server says the model can think (``/api/show``); None when unknown.
    """

    ollama_url: str
    openai_base_url: str
    model: str
    api_key: str
    env: tuple[tuple[str, str], ...]
    snippets: tuple[Snippet, ...]
    thinks: bool | None = None

    @property
    def env_lines(self) -> str:
        """``NAME=value`` lines, one per variable (a ``.env`` file accepts them as they are)."""
        return "".join(f"{name}={value}\n" for name, value in self.env)

    def snippet(self, snippet_id: str) -> Snippet:
        for snippet in self.snippets:
            if snippet.id == snippet_id:
                return snippet
        raise KeyError(snippet_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ollama_url": self.ollama_url,
            "openai_base_url": self.openai_base_url,
            "model": self.model,
            "api_key": self.api_key,
            "env": dict(self.env),
            "snippets": [s.to_dict() for s in self.snippets],
            "thinks": self.thinks,
        }


SNIPPET_IDS: tuple[str, ...] = ("env", "curl", "python", "javascript")


def server_root(url: str) -> str:
    """``127.0.0.1:11434/`` → ``http://127.0.0.1:11434``; a base URL ending in ``/v1`` loses it."""
    root = url.strip()
    if "://" not in root:
        root = "http://" + root
    root = root.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return root


def connect_info(url: str, model: str, thinks: bool | None = None, api_key: str | None = None) -> ConnectInfo:
    """Everything an app needs to use ``model`` on the Ollama server at ``url`` (``thinks``: whether the
    server says the model can think, kept for the warning; ``api_key``: a joined share's key, which its
    gateway checks, else a placeholder Ollama ignores)."""
    root = server_root(url)
    base = root + "/v1"
    key = api_key or API_KEY
    env = (("OPENAI_BASE_URL", base), ("OPENAI_API_KEY", key), ("OLLAMA_HOST", root))
    # json.dumps quotes a string the same way for JSON, Python and JavaScript.
    q_base, q_key, q_model, q_prompt = (json.dumps(s) for s in (base, key, model, PROMPT))
    ignored = "" if api_key else "  # Ollama ignores the key"
    auth = f"  -H {shlex.quote('Authorization: Bearer ' + key)} \\\n" if api_key else ""
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": PROMPT}], "reasoning_effort": "none"}
    )
    shell = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env)
    curl = (
        f"curl {shlex.quote(base + '/chat/completions')} \\\n"
        '  -H "Content-Type: application/json" \\\n'
        f"{auth}"
        f"  -d {shlex.quote(body)}\n"
    )
    python = (
        "from openai import OpenAI\n"
        "\n"
        f"client = OpenAI(base_url={q_base}, api_key={q_key}){ignored}\n"
        "reply = client.chat.completions.create(\n"
        f"    model={q_model},\n"
        f'    messages=[{{"role": "user", "content": {q_prompt}}}],\n'
        '    reasoning_effort="none",  # thinking off (Ollama thinks unless told, if the model can)\n'
        ")\n"
        "print(reply.choices[0].message.content)\n"
    )
    javascript = (
        'import OpenAI from "openai";\n'
        "\n"
        f"const client = new OpenAI({{ baseURL: {q_base}, apiKey: {q_key} }});{ignored.replace('#', '//')}\n"
        "const reply = await client.chat.completions.create({\n"
        f"  model: {q_model},\n"
        f'  messages: [{{ role: "user", content: {q_prompt} }}],\n'
        '  reasoning_effort: "none", // thinking off (Ollama thinks unless told, if the model can)\n'
        "});\n"
        "console.log(reply.choices[0].message.content);\n"
    )
    snippets = (
        Snippet("env", "Environment (shell)", "", shell),
        Snippet("curl", "curl", "", curl),
        Snippet("python", "Python", "pip install openai", python),
        Snippet("javascript", "JavaScript (ES module, app.mjs)", "npm install openai", javascript),
    )
    return ConnectInfo(root, base, model, key, env, snippets, thinks)
