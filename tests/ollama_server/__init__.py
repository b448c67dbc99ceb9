"""A test engine: Ollama's HTTP API served over real llama.cpp (xllamacpp) with PyPI-shipped models.

See README.md beside this file for the contract (fixtures, image, environment).
"""

IMAGE_TAG = "gpuless-test/ollama:local"
BASE_IMAGE_TAG = "gpuless-test/bookworm-python:base"
MODEL_NAMES = ("smollm2:135m", "gemma3:270m")

__all__ = ["BASE_IMAGE_TAG", "IMAGE_TAG", "MODEL_NAMES"]
