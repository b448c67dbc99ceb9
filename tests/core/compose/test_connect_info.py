"""toolkit.core.compose.connect_info: the URLs, env lines and snippets an app needs (pure; no server)."""

from __future__ import annotations

import json
import subprocess

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


def _run_curl(text: str) -> tuple[list[str], str]:
    """Run the curl snippet in bash with ``curl`` replaced by a function that prints its arguments, then
    what it read from stdin: the words and the body curl would send."""
    fake = 'curl() { printf "%s\\n" "$@"; echo "--- body"; cat; }\n'
    done = subprocess.run(["bash", "-c", fake + text], capture_output=True, text=True, timeout=30, check=True)
    words, _, body = done.stdout.partition("--- body\n")
    return words.splitlines(), body


@pytest.mark.parametrize("model", ["smollm2:135m", ODD])
def test_curl_snippet_reads_the_env_lines_it_prints_and_sends_the_model(model: str) -> None:
    text = connect_info("http://127.0.0.1:11434", model).snippet("curl").text
    words, body = _run_curl(text)
    assert words[0] == "http://127.0.0.1:11434/v1/chat/completions"
    assert "Authorization: Bearer ollama" in words and words[-2:] == ["-d", "@-"]
    sent = json.loads(body)
    assert sent["model"] == model and sent["messages"][0]["role"] == "user"
    # Copied by selection from an 80-column terminal: every line fits (no wrap inside the JSON string),
    # and the port is said once, in the export line.
    assert max(len(line) for line in text.splitlines()) <= 72
    assert text.count("11434") == 1


def test_a_snippet_with_a_share_key_sends_it() -> None:
    info = connect_info("http://192.168.1.5:8443", "m:1", api_key="gk-secret")
    words, _ = _run_curl(info.snippet("curl").text)
    assert "Authorization: Bearer gk-secret" in words
    assert 'headers={"Authorization": f"Bearer {key}"}' in info.snippet("ollama").text


@pytest.mark.parametrize("snippet_id", ["python", "ollama", "javascript"])
def test_every_app_snippet_carries_its_install_line_and_reads_the_environment(snippet_id: str) -> None:
    snippet = connect_info("http://127.0.0.1:11434", "m:1").snippet(snippet_id)
    first = snippet.text.splitlines()[0]
    assert first.lstrip("#/ ") == snippet.setup and snippet.setup.split()[0] in ("pip", "npm")
    names = ("OLLAMA_HOST",) if snippet_id == "ollama" else ("OPENAI_BASE_URL", "OPENAI_API_KEY")
    for name in names:
        assert f'os.environ.get("{name}"' in snippet.text or f"process.env.{name} ??" in snippet.text


def test_elsewhere_names_the_lan_address_in_the_env_lines() -> None:
    lan = (("other machines on the LAN (exposed: no key)", "http://192.168.1.5:11434"),)
    info = connect_info("http://127.0.0.1:11434", "m:1", elsewhere=lan)
    assert "#   OPENAI_BASE_URL=http://192.168.1.5:11434/v1" in info.snippet("env").text
    assert info.to_dict()["elsewhere"] == [{"who": lan[0][0], "ollama_url": lan[0][1]}]


@pytest.mark.parametrize("model", ["smollm2:135m", ODD])
def test_python_snippet_is_valid_python_naming_url_and_model(model: str) -> None:
    info = connect_info("http://127.0.0.1:11434", model)
    for snippet_id in ("python", "ollama"):
        text = info.snippet(snippet_id).text
        compile(text, "snippet.py", "exec")  # a syntax error fails here
        assert f"model={json.dumps(model)}" in text
    assert 'url = "http://127.0.0.1:11434/v1"' in info.snippet("python").text
    assert 'host = "http://127.0.0.1:11434"' in info.snippet("ollama").text


def test_shell_snippet_exports_the_env_lines() -> None:
    info = connect_info("http://127.0.0.1:11434", "smollm2:135m")
    exports = info.snippet("env").text.splitlines()
    assert [line.removeprefix("export ") for line in exports] == info.env_lines.splitlines()
    js = info.snippet("javascript").text
    assert 'const url = "http://127.0.0.1:11434/v1"' in js and 'model: "smollm2:135m"' in js
