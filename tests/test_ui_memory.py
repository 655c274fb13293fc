"""What a process holds for visitors' photos is bounded in bytes, not only in entries (issue 24, point 6).

With entries alone, 90 sessions with their own photos grew each replica by 300 MiB (`ui.analysis.layer`
held 96 results of up to 2.3 MB). scripts/soak.py shows the process levelling off; this holds the bounds.
"""
from __future__ import annotations

import ui.analysis as analysis
import ui.closeup as closeup
import ui.grids as grids

# The caches whose entries are a layer's arrays or pictures drawn from them (hundreds of kB to MB each).
PER_PHOTO = {"prepare": analysis.prepare, "layer": analysis.layer, "overlay": analysis.channel_overlay_jpeg,
             "receptive_field": analysis.receptive_field_png, "npy": analysis.layer_npy,
             "explanation": analysis.explanation, "feature_grid": grids.feature_grid,
             "channel_map": closeup.channel_map}
BUDGET_BYTES = 256 * 2**20


def test_every_large_per_photo_cache_is_bounded_in_bytes() -> None:
    sizes = {name: fn._info.max_size_bytes for name, fn in PER_PHOTO.items()}  # type: ignore[attr-defined]
    assert all(sizes.values()), f"caches bounded only in entries: {[n for n, s in sizes.items() if not s]}"
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes


def test_a_c1_result_fits_its_cache_many_times() -> None:
    """A bound smaller than one entry would keep one photo only (Streamlit stores a larger value alone)."""
    c1_bytes = 2 * 96 * 55 * 55 * 4  # the article's C1, before and after its ReLU, float32
    assert analysis.layer._info.max_size_bytes >= 20 * c1_bytes  # type: ignore[attr-defined]
