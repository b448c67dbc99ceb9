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
        snippets: env (shell), curl, Python ``openai``, Python ``ollama`` and JavaScript ``openai``
            examples, in that order.
        thinks: the server says the model can think (``/api/show``); None when unknown.
        elsewhere: (who, server root) for other machines: the LAN address of an exposed server, a share's
            gateway; empty when only this laptop can reach the server.
    """

    ollama_url: str
    openai_base_url: str
    model: str
    api_key: str
    env: tuple[tuple[str, str], ...]
    snippets: tuple[Snippet, ...]
    thinks: bool | None = None
    elsewhere: tuple[tuple[str, str], ...] = ()

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
            "elsewhere": [{"who": who, "ollama_url": url} for who, url in self.elsewhere],
        }


SNIPPET_IDS: tuple[str, ...] = ("env", "curl", "python", "ollama", "javascript")


def server_root(url: str) -> str:
    """``127.0.0.1:11434/`` → ``http://127.0.0.1:11434``; a base URL ending in ``/v1`` loses it."""
    root = url.strip()
    if "://" not in root:
        root = "http://" + root
    root = root.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return root


def connect_info(
    url: str,
    model: str,
    thinks: bool | None = None,
    api_key: str | None = None,
    elsewhere: tuple[tuple[str, str], ...] = (),
) -> ConnectInfo:
    """Everything an app needs to use ``model`` on the Ollama server at ``url`` (``thinks``: whether the
    server says the model can think, kept for the warning; ``api_key``: a joined share's key, which its
    gateway checks, else a placeholder Ollama ignores; ``elsewhere``: (who, server root) for other machines,
    when the server is exposed or shared).

    Every snippet reads the environment lines it names (``OPENAI_BASE_URL``/``OPENAI_API_KEY``,
    ``OLLAMA_HOST``), with this server as the fallback, so an app survives a port change with new env lines
    and no edit; each starts with its install line. Lines stay short (the curl body is a heredoc), so a
    snippet copied by selection from an 80-column terminal is the command itself."""
    root = server_root(url)
    base = root + "/v1"
    key = api_key or API_KEY
    env = (("OPENAI_BASE_URL", base), ("OPENAI_API_KEY", key), ("OLLAMA_HOST", root))
    # json.dumps quotes a string the same way for JSON, Python and JavaScript.
    q_base, q_key, q_root, q_model, q_prompt = (json.dumps(s) for s in (base, key, root, model, PROMPT))
    why_key = "the share's key" if api_key else "Ollama ignores it; OpenAI clients need one"
    shell = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env)
    for who, other in elsewhere:
        shell += f"# {who}:\n#   OPENAI_BASE_URL={other}/v1\n#   OLLAMA_HOST={other}\n"
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env[:2])
    curl = (
        f"{exports}"
        'curl "$OPENAI_BASE_URL/chat/completions" \\\n'
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  -d @- <<'JSON'\n"
        "{\n"
        f'  "model": {q_model},\n'
        '  "messages": [\n'
        f'    {{"role": "user", "content": {q_prompt}}}\n'
        "  ],\n"
        '  "reasoning_effort": "none"\n'
        "}\n"
        "JSON\n"
    )
    reads = "# Reads OPENAI_BASE_URL and OPENAI_API_KEY\n# (`gpuless connect --snippet env` prints them)\n"
    python = (
        "# pip install openai\n"
        f"{reads}"
        "import os\n"
        "\n"
        "from openai import OpenAI\n"
        "\n"
        f"url = {q_base}  # when OPENAI_BASE_URL is unset\n"
        f"key = {q_key}  # {why_key}\n"
        "client = OpenAI(\n"
        '    base_url=os.environ.get("OPENAI_BASE_URL", url),\n'
        '    api_key=os.environ.get("OPENAI_API_KEY", key),\n'
        ")\n"
        "reply = client.chat.completions.create(\n"
        f"    model={q_model},\n"
        f'    messages=[{{"role": "user", "content": {q_prompt}}}],\n'
        '    reasoning_effort="none",  # no thinking (Ollama thinks unless told)\n'
        ")\n"
        "print(reply.choices[0].message.content)\n"
    )
    keyed = f'key = os.environ.get("OPENAI_API_KEY", {q_key})  # the share\'s key\n' if api_key else ""
    ollama_py = (
        "# pip install ollama\n"
        "# Reads OLLAMA_HOST (`gpuless connect --snippet env` prints it)\n"
        "import os\n"
        "\n"
        "from ollama import Client\n"
        "\n"
        f"host = {q_root}  # when OLLAMA_HOST is unset\n"
        f"{keyed}"
        "client = Client(\n"
        '    host=os.environ.get("OLLAMA_HOST", host),\n'
        + ('    headers={"Authorization": f"Bearer {key}"},\n' if api_key else "")
        + ")\n"
        "reply = client.chat(\n"
        f"    model={q_model},\n"
        f'    messages=[{{"role": "user", "content": {q_prompt}}}],\n'
        "    think=False,  # no thinking (Ollama thinks unless told)\n"
        ")\n"
        "print(reply.message.content)\n"
    )
    javascript = (
        "// npm install openai\n"
        f"{reads.replace('#', '//')}"
        'import OpenAI from "openai";\n'
        "\n"
        f"const url = {q_base}; // when OPENAI_BASE_URL is unset\n"
        f"const key = {q_key}; // {why_key}\n"
        "const client = new OpenAI({\n"
        "  baseURL: process.env.OPENAI_BASE_URL ?? url,\n"
        "  apiKey: process.env.OPENAI_API_KEY ?? key,\n"
        "});\n"
        "const reply = await client.chat.completions.create({\n"
        f"  model: {q_model},\n"
        f'  messages: [{{ role: "user", content: {q_prompt} }}],\n'
        '  reasoning_effort: "none", // no thinking (Ollama thinks unless told)\n'
        "});\n"
        "console.log(reply.choices[0].message.content);\n"
    )
    snippets = (
        Snippet("env", "Environment (shell)", "", shell),
        Snippet("curl", "curl", "", curl),
        Snippet("python", "Python", "pip install openai", python),
        Snippet("ollama", "Python, Ollama's own client", "pip install ollama", ollama_py),
        Snippet("javascript", "JavaScript (ES module, app.mjs)", "npm install openai", javascript),
    )
    return ConnectInfo(root, base, model, key, env, snippets, thinks, elsewhere)
