"""The published Metal speed data set (tests/data/published_metal_speeds.toml) is complete and cited, and
the shipped native-Ollama estimate (core/estimate/metal.py) is the fit on its fit half and meets issue 24's
held-out target."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from types import ModuleType

from tests import paths
from toolkit.core.estimate.metal import APPLE_CHIPS

DATA = paths.DATA / "published_metal_speeds.toml"
REQUIRED = ("id", "chip", "gpu_cores", "gpu_cores_basis", "model", "quant", "size_gib", "engine", "source")


def _fit_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fit_metal", paths.ROOT / "scripts" / "fit_metal.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fit_metal"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_every_point_is_cited_and_complete() -> None:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    points = data["point"]
    assert len(points) >= 20
    assert len({p["id"] for p in points}) == len(points)
    for point in points:
        missing = [key for key in REQUIRED if key not in point]
        assert not missing, f"{point.get('id')}: missing {missing}"
        assert point["source"].startswith("https://github.com/"), point["id"]
        assert point["chip"] in APPLE_CHIPS, point["id"]
        assert point["model"] in data["model"], point["id"]
        assert point["gpu_cores_basis"] in ("stated", "assumed"), point["id"]
        assert "decode_tps" in point or "prefill_tps" in point, point["id"]
        for key in ("decode_tps", "prefill_tps"):
            if key in point:
                assert point[key] > 0
                assert str(point[key]).rstrip("0").rstrip(".") in point["quote"], (point["id"], key)
        if "decode_tps" in point:
            assert point["decode_depth"] > 0, point["id"]


def test_shipped_constants_are_the_fit_on_the_fit_half_alone() -> None:
    """The held-out half never chose a constant: refitting on the fit half gives the shipped ones."""
    fit = _fit_script()
    points = fit.load_points()
    held = [p for p in points if p.held_out]
    assert 8 <= len(held) <= len(points) - 8
    assert fit.fit([p for p in points if not p.held_out]) == fit.SHIPPED


def test_held_out_metal_error_is_within_fifteen_percent() -> None:
    """Issue 24: median |predicted/published − 1| ≤ 0.15 on held-out Metal points (docs/metal-fit.txt:
    decode 0.082, prefill 0.070)."""
    fit = _fit_script()
    held = [p for p in fit.load_points() if p.held_out]
    assert fit.median_ratio_error(held, fit.SHIPPED, "decode") <= 0.15
    assert fit.median_ratio_error(held, fit.SHIPPED, "prefill") <= 0.15
