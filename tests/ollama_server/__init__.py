"""A test engine: Ollama's HTTP API served over real llama.cpp (xllamacpp) with PyPI-shipped models.

See README.md beside this file for the contract (fixtures, image, environment).
"""

import os

#: The test image's tag; GPULESS_TEST_IMAGE names another (scripts/prepare-test-machine.sh builds that one),
#: so two checkouts that change the test server can be tested side by side on one Docker engine.
IMAGE_TAG = os.environ.get("GPULESS_TEST_IMAGE", "gpuless-test/ollama:local")
BASE_IMAGE_TAG = "gpuless-test/bookworm-python:base-2"
MODEL_NAMES = ("smollm2:135m", "gemma3:270m")

__all__ = ["BASE_IMAGE_TAG", "IMAGE_TAG", "MODEL_NAMES"]
