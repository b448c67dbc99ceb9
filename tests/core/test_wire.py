"""The two APIs' wire formats: request bodies built, and server data checked into one error each."""

from __future__ import annotations

import pytest

from toolkit.core.wire import (
    as_items,
    as_object,
    as_text,
    error_text,
    is_json_error,
    native_body,
    normalize_url,
    openai_body,
    show_parameters,
    stream_object,
)
from toolkit.errors import StreamError

URL = "http://127.0.0.1:11434"
MESSAGES = [{"role": "user", "content": "hi"}]


def test_normalize_url() -> None:
    assert normalize_url(" 127.0.0.1:11434// ") == URL
    assert normalize_url("https://host/") == "https://host"


def test_native_body_sends_only_what_was_given() -> None:
    bare = native_body("m", {"messages": MESSAGES}, None, None, None)
    assert bare == {"model": "m", "messages": MESSAGES, "stream": True}
    full = native_body("m", {"prompt": "p"}, {"num_ctx": 2048}, False, "30m")
    assert full == {"model": "m", "prompt": "p", "stream": True, "options": {"num_ctx": 2048}, "think": False,
                    "keep_alive": "30m"}  # fmt: skip


def test_openai_body_maps_the_options_it_has_a_field_for() -> None:
    options = {"temperature": 0.0, "seed": 42, "num_predict": 64, "num_ctx": 8192, "top_p": 0.9}
    body = openai_body("m", MESSAGES, options)
    assert body["max_tokens"] == 64 and body["seed"] == 42 and body["top_p"] == 0.9
    assert "num_ctx" not in body and "num_predict" not in body
    assert body["stream_options"] == {"include_usage": True}
    # Thinking off is the one field that turns it off on Ollama; on or default sends nothing.
    assert body["reasoning_effort"] == "none"
    assert "reasoning_effort" not in openai_body("m", MESSAGES, {}, think=True)
    assert "reasoning_effort" not in openai_body("m", MESSAGES, {}, think=None)


def test_wrong_shapes_are_one_stream_error_with_a_short_safe_preview() -> None:
    assert as_object({"a": 1}, URL, "x") == {"a": 1}
    assert as_text(None, URL, "x") is None and as_items(None, URL, "x") == []
    with pytest.raises(
        StreamError, match=r"unexpected data from http://127\.0\.0\.1:11434: x \(not an object\)"
    ):
        as_object([1], URL, "x")
    with pytest.raises(StreamError, match=r"\(not a string\) '3'$"):
        as_text(3, URL, "x")
    with pytest.raises(StreamError) as error:
        as_items("\x1b[31m" + "y" * 200, URL, "models")
    message = error.value.message
    assert "\x1b" not in message and "…" in message and len(message) < 200


def test_stream_object_refuses_non_json_and_mid_answer_errors() -> None:
    assert stream_object('{"done": true}', URL, "line") == {"done": True}
    with pytest.raises(StreamError, match=r"malformed line \(not JSON\)"):
        stream_object("data: {", URL, "line")
    with pytest.raises(StreamError, match="mid-answer: model runner crashed") as error:
        stream_object('{"error": "model runner crashed"}', URL, "line")
    assert error.value.hint == "Check the server's logs; the answer so far was kept."


def test_show_parameters_reads_gos_quoted_and_exponent_forms() -> None:
    # server/routes.go writes each parameter with %#v: strings quoted, large float64 in exponent form.
    text = (
        'num_ctx                        1.048576e+06\nstop                           "<|im_end|>"\n'
        'stop                           "<|endoftext|>"\ntemperature                    0.7\nbroken\n'
    )
    assert show_parameters(text) == {
        "num_ctx": "1048576",
        "stop": "<|im_end|> <|endoftext|>",
        "temperature": "0.7",
    }


def test_error_text_of_each_server_kind() -> None:
    assert error_text(b'{"error": "model \\"x\\" not found"}') == 'model "x" not found'
    assert error_text(b'{"error": {"message": "bad key", "type": "auth"}}') == "bad key"
    assert error_text(b"<html><title>502 Bad\nGateway</title></html>") == "an HTML page: 502 Bad Gateway"
    assert error_text(b"<h1>Forbidden</h1>", "text/html") == "an HTML page: Forbidden"
    assert error_text(b"<html></html>") == "an HTML page: untitled"
    assert error_text(b"plain \x1b[2Jtext\nsecond line") == "plain text second line"
    assert error_text(b"x" * 300).endswith("…") and len(error_text(b"x" * 300)) == 201
    assert is_json_error(b'{"error": "x"}') and not is_json_error(b'{"ok": 1}') and not is_json_error(b"<")
