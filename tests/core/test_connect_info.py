"""toolkit.core.compose.connect_info: the URLs, env lines and snippets an app needs (pure; no server)."""

from __future__ import annotations

import json
import shlex

import pytest

from toolkit.core.compose.connect_info import SNIPPET_IDS, connect_info, server_root


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434"),
        (" https://box.lan:8080/v1/ ", "https://box.lan:8080"),
    ],
)
def test_server_root_accepts_the_forms_users_paste(given: str, root: str) -> None:
    assert server_root(given) == root


def test_urls_env_and_json_agree() -> None:
    info = connect_info("127.0.0.1:11500/", "smollm2:135m")
    assert info.ollama_url == "http://127.0.0.1:11500"
    assert info.openai_base_url == "http://127.0.0.1:11500/v1"
    assert info.env_lines == (
        "OPENAI_BASE_URL=http://127.0.0.1:11500/v1\nOPENAI_API_KEY=ollama\nOLLAMA_HOST=http://127.0.0.1:11500\n"
    )
    data = info.to_dict()
    assert data["env"]["OPENAI_BASE_URL"] == info.openai_base_url
    assert [s["id"] for s in data["snippets"]] == list(SNIPPET_IDS)
    assert json.loads(json.dumps(data)) == data


# A tag with characters a shell, JSON or a Python string would need quoted.
ODD = "hf.co/someone/Model-GGUF:Q4_K_M"


@pytest.mark.parametrize("model", ["smollm2:135m", ODD])
def test_curl_snippet_sends_the_model_to_the_openai_route(model: str) -> None:
    words = shlex.split(
        connect_info("http://127.0.0.1:11434", model).snippet("curl").text.replace("\\\n", " ")
    )
    assert words[:2] == ["curl", "http://127.0.0.1:11434/v1/chat/completions"]
    body = json.loads(words[words.index("-d") + 1])
    assert body["model"] == model and body["messages"][0]["role"] == "user"


@pytest.mark.parametrize("model", ["smollm2:135m", ODD])
def test_python_snippet_is_valid_python_naming_url_and_model(model: str) -> None:
    text = connect_info("http://127.0.0.1:11434", model).snippet("python").text
    compile(text, "snippet.py", "exec")  # a syntax error fails here
    assert 'base_url="http://127.0.0.1:11434/v1"' in text
    assert f"model={json.dumps(model)}" in text


def test_shell_snippet_exports_the_env_lines() -> None:
    info = connect_info("http://127.0.0.1:11434", "smollm2:135m")
    exports = info.snippet("env").text.splitlines()
    assert [line.removeprefix("export ") for line in exports] == info.env_lines.splitlines()
    js = info.snippet("javascript").text
    assert 'baseURL: "http://127.0.0.1:11434/v1"' in js and 'model: "smollm2:135m"' in js
