"""What a benchmark's predictions come from: the recommendation's estimator, bound to the model the
server really serves.

The server may hold another file under a catalog name than the catalog's public tag (another
quantisation, another size: ``served_variant``), and a served model (TAG-gpuless) has its base
model's geometry; a model the catalog lacks is described from ``/api/show``. Choosing among those is
pure once the runner has read ``/api/show`` and ``/api/tags``, so it lives here, apart from the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.core.bench.compare import Predictor
from toolkit.core.catalog.model import Catalog, ModelSpec, QuantVariant
from toolkit.core.catalog.offcatalog import served_variant
from toolkit.core.compose.spec import base_model
from toolkit.core.estimate.estimator import Estimate, estimate
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.pick import recommend
from toolkit.errors import ProfileError, UsageError


def make_predictor(
    model: ModelSpec, variant: QuantVariant, machine: Machine, context: int = 4096
) -> Predictor:
    """The estimator of the recommendation, bound to one model on one machine."""

    def predict(prompt_tokens: int, streams: int) -> tuple[float | None, float | None, float | None]:
        result = estimate(
            model, variant, machine, context=context, parallel=streams, prompt_tokens=prompt_tokens
        )
        return result.decode_tps, result.prefill_tps, result.ttft_s

    return predict


def model_step_estimate(
    catalog: Catalog, model: ModelSpec, variant: QuantVariant, machine: Machine
) -> Estimate:
    """The estimate the wizard's Model step shows for this catalog row on this machine: the same call
    (``recommend`` for one row, its default context, prompt length and one user), so the two agree."""
    ranked = recommend(machine, catalog, only=((model, variant),))
    return ranked.candidates[0].estimate


@dataclass(frozen=True)
class PredictorChoice:
    """What a benchmark predicts with, and what it tells the user about it.

    Attributes:
        predictor: the estimator bound to the model; None when nothing can be predicted.
        model_step: the Model step's estimate for the catalog row; None for a model the catalog lacks.
        served_file: "Q4_1, 0.09 GB" when the server holds another file under the name than the
            catalog's public one (the predictions are then for the served file), else None.
        problem: why there is no prediction, one line for the progress output; None otherwise.
    """

    predictor: Predictor | None
    model_step: Estimate | None = None
    served_file: str | None = None
    problem: str | None = None


def predictor_from_catalog(catalog: Catalog, machine: Machine, model: str, context: int) -> PredictorChoice:
    """The catalog row named ``model`` as published (the OpenAI API has no ``/api/show`` to say what
    the server holds); no predictor for a name the catalog lacks."""
    try:
        spec, variant = catalog.find(model)
    except UsageError:
        return PredictorChoice(None)
    return PredictorChoice(
        make_predictor(spec, variant, machine, context),
        model_step=model_step_estimate(catalog, spec, variant, machine),
    )


def predictor_from_show(
    catalog: Catalog | None,
    machine: Machine,
    model: str,
    show: Mapping[str, Any],
    size_bytes: int | None,
    context: int,
) -> PredictorChoice:
    """The catalog's geometry with the file the server really has (``size_bytes`` from ``/api/tags``,
    the quantisation from ``show``, see ``served_variant``); a model the catalog lacks from ``show``."""
    details = show.get("details")
    quant = details.get("quantization_level") if isinstance(details, Mapping) else None
    if catalog is not None:
        try:
            # A served model (TAG-gpuless) has its base model's file and geometry.
            spec, variant = catalog.find(base_model(model))
        except UsageError:
            pass
        else:
            served = served_variant(
                spec, variant, size_bytes=size_bytes, quant=quant if isinstance(quant, str) else None
            )
            return PredictorChoice(
                make_predictor(spec, served, machine, context),
                model_step=model_step_estimate(catalog, spec, variant, machine),
                served_file=None
                if served is variant
                else f"{served.quant}, {served.size_bytes / 1e9:.2f} GB",
            )
    try:
        spec = ModelSpec.from_ollama_show(show, name=model, size_bytes=size_bytes)
    except ProfileError as error:
        return PredictorChoice(None, problem=f"no prediction: {error.message}")
    return PredictorChoice(make_predictor(spec, spec.variants[0], machine, context))
