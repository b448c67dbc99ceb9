"""The bandwidth cache never hands out a non-finite figure (issue 11 item 10: no "nan GB/s")."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from toolkit.core.hardware import Bandwidth
from toolkit.engine import bandwidth


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_cached_figures_are_measured_again(tmp_path: Path, raw: str) -> None:
    key = bandwidth.cache_key("CPU", 1)
    entry = f'{{"gbps": {raw}, "measured_at": 1.0}}'
    text = f'{{"format": {bandwidth.CACHE_FORMAT}, "entries": {{"{key}": {entry}}}}}'
    (tmp_path / bandwidth.CACHE_FILE).write_text(text, encoding="utf-8")
    calls = []

    def probe() -> Bandwidth:
        calls.append(1)
        return Bandwidth(gbps=9.5, source="measured", detail="test probe")

    result = bandwidth.cached_bandwidth(
        "CPU", 1, cache_dir=tmp_path, measure=probe, load=lambda: 0.0, now=lambda: 2.0
    )
    assert result.gbps == 9.5 and calls == [1]
    written = json.loads((tmp_path / bandwidth.CACHE_FILE).read_text(encoding="utf-8"))
    assert math.isfinite(written["entries"][key]["gbps"])
