"""An import plan copies only what the volume lacks, checks space first; the list of stored models."""

from __future__ import annotations

import pytest

from tests.core.models.store import (
    BLOBS,
    CONFIG,
    MANIFEST,
    MANIFEST_PATH,
    PARAMS,
    WEIGHTS,
    checked_export,
    digest,
    manifest_bytes,
)
from toolkit.core.models.layout import blob_path
from toolkit.core.models.plan import RESERVE, VolumeState, check_space, plan_import, stored_models
from toolkit.errors import ModelStoreError


def test_an_import_copies_only_what_the_volume_lacks_and_checks_space() -> None:
    models = checked_export()
    config = blob_path(digest(CONFIG))
    weights = blob_path(digest(WEIGHTS))
    half = VolumeState(None, {config: len(CONFIG), weights: 10}, {})  # a partial weights file: copied again
    plan = plan_import(models, half)
    assert [layer.digest for layer in plan.copy] == [digest(WEIGHTS)]
    assert plan.bytes_to_copy == len(WEIGHTS) + len(MANIFEST)
    check_space(plan, plan.bytes_to_copy + RESERVE, "v")
    with pytest.raises(ModelStoreError, match=r"not enough space for the copy.*nothing was written"):
        check_space(plan, plan.bytes_to_copy + RESERVE - 1, "v")


def test_the_list_says_which_served_model_derives_from_which() -> None:
    served = manifest_bytes(
        ("config", CONFIG),
        ("application/vnd.ollama.image.model", WEIGHTS),
        ("application/vnd.ollama.image.params", PARAMS),
    )
    state = VolumeState(
        1000,
        {p: len(b) for p, b in BLOBS.items()},
        {MANIFEST_PATH: MANIFEST, MANIFEST_PATH + "-gpuless": served},
    )
    rows = {row.name: row for row in stored_models(state)}
    assert rows["smollm2:135m"].served_as == ("smollm2:135m-gpuless",)
    assert rows["smollm2:135m"].missing == ()
    assert rows["smollm2:135m-gpuless"].derives_from == "smollm2:135m"
    assert rows["smollm2:135m-gpuless"].missing == (digest(PARAMS),)
