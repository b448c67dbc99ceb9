"""The one rule for the model a command talks to when none was named."""

from __future__ import annotations

from toolkit.core.recommend.model_choice import default_model


def test_a_served_model_gpuless_made_comes_first() -> None:
    names = ["gemma3:270m", "smollm2:135m-gpuless", "smollm2:135m"]
    assert default_model(names) == "smollm2:135m-gpuless"  # it carries the tuned threads and context


def test_the_model_asked_for_wins_and_its_served_model_before_it() -> None:
    names = ["gemma3:270m", "smollm2:135m", "smollm2:135m-gpuless"]
    assert default_model(names, "smollm2:135m") == "smollm2:135m-gpuless"
    assert default_model(names, "gemma3:270m") == "gemma3:270m"
    assert default_model(["llama3:latest"], "llama3") == "llama3:latest"
    assert default_model(["llama3:gpuless", "llama3:latest"], "llama3") == "llama3:gpuless"


def test_otherwise_the_first_model_or_none() -> None:
    assert default_model(["b:1", "a:1"], "missing:1b") == "b:1"
    assert default_model([]) is None
