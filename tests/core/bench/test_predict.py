"""The benchmark's predictor choice and the comparisons made with it, pure: the catalog row, the file
the server really serves, a model the catalog lacks, and a /api/show too thin to predict from."""

from __future__ import annotations

from tests.builders import machine
from toolkit.adapters.resources import load_catalog
from toolkit.core.bench.compare import comparisons
from toolkit.core.bench.metrics import shape_result
from toolkit.core.bench.predict import predictor_from_catalog, predictor_from_show

MACHINE = machine(clock=None)


def test_the_public_file_predicts_with_no_served_file_note() -> None:
    catalog = load_catalog()
    choice = predictor_from_catalog(catalog, MACHINE, "smollm2:135m", 4096)
    assert choice.predictor is not None and choice.model_step is not None
    assert choice.served_file is None and choice.problem is None
    decode, prefill, ttft = choice.predictor(512, 1)
    assert decode and prefill and ttft and decode > 0
    assert predictor_from_catalog(catalog, MACHINE, "not-a-model:1b", 4096).predictor is None


def test_another_served_file_is_named_and_predicted_from() -> None:
    catalog = load_catalog()
    show = {"details": {"quantization_level": "Q4_1"}}
    public = predictor_from_catalog(catalog, MACHINE, "smollm2:135m", 4096)
    served = predictor_from_show(catalog, MACHINE, "smollm2:135m-gpuless", show, 98_362_432, 4096)
    assert served.served_file == "Q4_1, 0.10 GB" and served.model_step == public.model_step
    assert served.predictor is not None and public.predictor is not None
    # A smaller file reads fewer bytes per token: the served file decodes faster than the public F16.
    assert (served.predictor(512, 1)[0] or 0) > (public.predictor(512, 1)[0] or 0)


def test_a_show_without_geometry_gives_a_reason_not_a_predictor() -> None:
    choice = predictor_from_show(None, MACHINE, "mystery:7b", {"details": {}}, None, 4096)
    assert choice.predictor is None and choice.problem is not None
    assert choice.problem.startswith("no prediction: ")


def test_no_predictor_or_no_shape_makes_no_comparison() -> None:
    assert comparisons(None, [shape_result("chat", [])], [], 128) == ((), None)
    assert comparisons(lambda _p, _s: (1.0, 2.0, 3.0), [], [], 128) == ((), None)
