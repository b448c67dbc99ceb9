"""The benchmark's grade, users held and NUM_PARALLEL advice agree, each with its reason; the ETA."""

from __future__ import annotations
