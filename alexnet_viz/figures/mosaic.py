"""Pictures of what a layer holds, as plain uint8 arrays: channel grids, kernel tiles, overlays.

One grid image for all of a layer's channels is what makes the feature-map view fast: the browser
paints a single PNG instead of hundreds of charts. Everything here is numpy + Pillow so it can be
tested without a browser and cached as bytes.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from alexnet_viz.core.bookkeeping import Box
from alexnet_viz.figures.colours import ANCHORS, DIVERGING, HEAT

Normalise = Literal["map", "layer"]
SortBy = Literal["none", "mean", "max"]
NORMALISE_MODES: tuple[str, ...] = ("map", "layer")
SORT_MODES: tuple[str, ...] = ("none", "mean", "max")

COLORMAPS: tuple[str, ...] = tuple(ANCHORS)  # the app's colour language (alexnet_viz.figures.colours)


def _lut(name: str) -> np.ndarray:
    anchors = np.asarray(ANCHORS[name], dtype=np.float64)
    xs = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, xs, anchors[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


_LUTS: dict[str, np.ndarray] = {name: _lut(name) for name in ANCHORS}


def colormap(values: np.ndarray, name: str = "viridis") -> np.ndarray:
    """Map values in [0, 1] (clipped; NaN counts as 0) to uint8 RGB with a 256-entry lookup table."""
    if name not in _LUTS:
        raise ValueError(f"unknown colormap {name!r}; use one of {', '.join(COLORMAPS)}")
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    idx = np.clip(np.rint(v * 255.0), 0, 255).astype(np.uint8)
    return _LUTS[name][idx]


def normalise(maps: np.ndarray, mode: Normalise = "map", *, symmetric: bool = False) -> np.ndarray:
    """Scale (C, H, W) maps to [0, 1], each map on its own range ("map") or on one shared range ("layer").

    Per map shows every channel's pattern; per layer shows which channels respond most. A constant
    range (such as an all-zero map after ReLU) becomes 0. `symmetric` maps 0 to 0.5, for signed data.
    """
    if mode not in NORMALISE_MODES:
        raise ValueError(f"unknown normalisation {mode!r}; use 'map' or 'layer'")
    x = np.asarray(maps, dtype=np.float32)
    axes = tuple(range(1, x.ndim)) if mode == "map" else None
    if symmetric:
        amax = np.abs(x).max(axis=axes, keepdims=True) if x.size else np.float32(0)
        scale = np.where(amax > 0, amax, 1.0).astype(np.float32)
        return np.clip(0.5 + 0.5 * x / scale, 0.0, 1.0)
    lo = x.min(axis=axes, keepdims=True)
    hi = x.max(axis=axes, keepdims=True)
    span = hi - lo
    out = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.0)
    return out.astype(np.float32)


FLAT_SHARE = 0.05  # a map whose values vary by less than this share of its layer's range is "nearly flat"


def range_shares(maps: np.ndarray) -> np.ndarray:
    """Each (C, H, W) map's range (max − min) as a share of the whole layer's range (all 0 for a constant layer).

    On its own range a map whose values span 1.40-1.46 fills the whole colour scale, as if strongly
    patterned: this share is how a page says it is nearly flat."""
    x = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    spans = x.max(axis=1) - x.min(axis=1)
    whole = float(x.max() - x.min()) if x.size else 0.0
    return spans / whole if whole > 0 else np.zeros(len(x))


def nearly_flat(maps: np.ndarray, share: float = FLAT_SHARE) -> tuple[int, ...]:
    """The channels whose range is under `share` of the layer's range (silent, all-zero maps among them)."""
    return tuple(int(c) for c in np.flatnonzero(range_shares(maps) < share))


def channel_order(maps: np.ndarray, sort: SortBy = "none") -> np.ndarray:
    """Channel indices in display order: as stored, or by mean / max activation, strongest first."""
    c = maps.shape[0]
    if sort == "none":
        return np.arange(c)
    if sort not in SORT_MODES:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(SORT_MODES)}")
    flat = np.asarray(maps, dtype=np.float32).reshape(c, -1)
    score = flat.mean(axis=1) if sort == "mean" else flat.max(axis=1)
    return np.argsort(-score, kind="stable")


def grid_shape(n: int, tile_h: int = 1, tile_w: int = 1) -> tuple[int, int]:
    """Rows and columns for n tiles so the whole grid comes out roughly square."""
    if n < 1:
        raise ValueError("a grid needs at least one tile")
    cols = max(1, math.ceil(math.sqrt(n * tile_h / tile_w)))
    cols = min(cols, n)
    return math.ceil(n / cols), cols


@dataclass(frozen=True)
class Mosaic:
    """A grid image and where each tile sits in it (for captions and for tests).

    Grids drawn through a colormap also keep their palette indices: as an indexed PNG they are a
    quarter of the RGB PNG's size, which is what the browser downloads.
    """

    image: np.ndarray  # uint8 (H, W, 3)
    order: np.ndarray  # channel shown in tile k (row-major)
    rows: int
    cols: int
    tile_h: int  # in output pixels, after scaling
    tile_w: int
    gap: int
    indices: np.ndarray | None = None  # uint8 (H, W) into `palette`, when the grid has one
    palette: np.ndarray | None = None  # uint8 (256, 3)

    def tile_box(self, k: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), end-exclusive, of the k-th tile in the image."""
        r, c = divmod(k, self.cols)
        x0 = c * (self.tile_w + self.gap)
        y0 = r * (self.tile_h + self.gap)
        return x0, y0, x0 + self.tile_w, y0 + self.tile_h

    def png(self) -> bytes:
        """The grid as PNG bytes: indexed (palette) when it has one, else RGB."""
        if self.indices is None or self.palette is None:
            return png_bytes(self.image)
        img = Image.fromarray(self.indices)
        img.putpalette(self.palette.reshape(-1).tolist())
        buf = io.BytesIO()
        # Level 1: a few percent more bytes than level 6 for a seventh of the encoding time (measured:
        # ~23 ms instead of ~165 ms for C1's grid), and encoding is on the path from photo to grid.
        img.save(buf, format="PNG", compress_level=1)
        return buf.getvalue()


def _layout(tiles: np.ndarray, cols: int | None, gap: int, scale: int, fill) -> tuple[np.ndarray, int, int, int, int]:
    """Place (N, h, w, ...) tiles row-major on a `fill` background; returns (grid, rows, cols, th, tw)."""
    n, h, w = tiles.shape[:3]
    if scale < 1 or gap < 0:
        raise ValueError("scale must be at least 1 and gap at least 0")
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = h * scale, w * scale
    rows, ncols = grid_shape(n, th, tw) if cols is None else (math.ceil(n / cols), min(cols, n))
    out = np.empty((rows * th + (rows - 1) * gap, ncols * tw + (ncols - 1) * gap, *tiles.shape[3:]), dtype=tiles.dtype)
    out[...] = fill
    for k in range(n):
        r, c = divmod(k, ncols)
        y, x = r * (th + gap), c * (tw + gap)
        out[y:y + th, x:x + tw] = tiles[k]
    return out, rows, ncols, th, tw


def tile_rgb(tiles: np.ndarray, *, cols: int | None = None, gap: int = 1, scale: int = 1,
             separator: tuple[int, int, int] = (255, 255, 255)) -> Mosaic:
    """Lay out (N, h, w, 3) uint8 tiles in a grid with `gap`-pixel separators, each scaled up `scale` times.

    Nearest-neighbour scaling keeps small maps (13x13) crisp in the browser instead of blurred.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 4 or tiles.shape[3] != 3 or tiles.dtype != np.uint8:
        raise ValueError("tiles must be a uint8 array of shape (N, h, w, 3)")
    out, rows, ncols, th, tw = _layout(tiles, cols, gap, scale, np.asarray(separator, dtype=np.uint8))
    return Mosaic(image=out, order=np.arange(tiles.shape[0]), rows=rows, cols=ncols, tile_h=th, tile_w=tw, gap=gap)


def tile_indexed(values: np.ndarray, cmap: str, *, cols: int | None = None, gap: int = 1, scale: int = 1,
                 separator: tuple[int, int, int] = (255, 255, 255), order: np.ndarray | None = None) -> Mosaic:
    """Lay out (N, h, w) values in [0, 1] as colormapped tiles, keeping palette indices for a small PNG.

    Values take palette entries 0-254 (the colormap, resampled); entry 255 is the separator.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    if v.ndim != 3:
        raise ValueError("values must have shape (N, h, w)")
    if cmap not in _LUTS:
        raise ValueError(f"unknown colormap {cmap!r}; use one of {', '.join(COLORMAPS)}")
    idx = np.rint(np.clip(v, 0.0, 1.0) * 254.0).astype(np.uint8)
    grid, rows, ncols, th, tw = _layout(idx, cols, gap, scale, 255)
    lut = _LUTS[cmap][np.rint(np.arange(255) * 255 / 254).astype(int)]
    palette = np.vstack([lut, np.asarray(separator, dtype=np.uint8)[None]])
    shown = np.arange(v.shape[0]) if order is None else np.asarray(order)
    return Mosaic(image=palette[grid], order=shown, rows=rows, cols=ncols, tile_h=th, tile_w=tw, gap=gap,
                  indices=grid, palette=palette)


def auto_scale(tile: int, count: int, target: int = 900) -> int:
    """Integer upscaling so a grid of `count` square tiles of side `tile` is about `target` pixels wide."""
    cols = math.ceil(math.sqrt(count))
    return max(1, target // max(1, cols * tile))


def feature_grid(maps: np.ndarray, *, mode: Normalise = "map", sort: SortBy = "none", cmap: str = "viridis",
                 cols: int | None = None, gap: int = 1, scale: int | None = None,
                 symmetric: bool = False) -> Mosaic:
    """All channels of one layer's (C, H, W) output as ONE image, normalised and optionally sorted."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[0] < 1:
        raise ValueError(f"feature maps must have shape (C, H, W), not {maps.shape}")
    order = channel_order(maps, sort)
    scaled = normalise(maps, mode, symmetric=symmetric)[order]
    s = auto_scale(maps.shape[1], maps.shape[0]) if scale is None else scale
    return tile_indexed(scaled, cmap, cols=cols, gap=gap, scale=s, order=order)


def kernel_tiles(weight: np.ndarray, *, mode: Normalise = "map", gap: int = 1, scale: int = 4,
                 cols: int | None = None, kernels: range | None = None) -> Mosaic:
    """First-layer kernels (out, 3, k, k) as colour tiles: the famous picture of Gabor-like filters.

    Each kernel's RGB weights are shifted and scaled to [0, 1], per kernel ("map") or with one
    range for the whole layer ("layer"), so 0.5 grey means a weight of zero only in "layer" mode.
    `kernels` draws only some of them (one GPU's half), still on the whole layer's range.
    """
    w = np.asarray(weight, dtype=np.float32)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"colour kernels need shape (out, 3, k, k), not {w.shape}")
    flat = w.reshape(w.shape[0], -1)
    if mode == "layer":
        scaled = normalise(flat, "layer", symmetric=True)
    else:
        scaled = normalise(flat, "map")
    rgb = (scaled.reshape(w.shape).transpose(0, 2, 3, 1) * 255.0).round().astype(np.uint8)
    shown = rgb if kernels is None else rgb[kernels.start:kernels.stop]
    return tile_rgb(shown, cols=cols, gap=gap, scale=scale, separator=(255, 255, 255))


def kernel_slice(weight: np.ndarray, in_channel: int, *, gap: int = 2, scale: int = 8,
                 cols: int | None = None, kernels: range | None = None) -> Mosaic:
    """Every output kernel's weights on one input channel (out, k, k), blue negative, red positive.

    Deeper kernels have too many input channels to show as colour; one input-channel slice at a
    time, on one symmetric range for the whole layer's slice, shows which outputs read that
    channel and how. `kernels` draws only some of them, on that same range.
    """
    w = np.asarray(weight, dtype=np.float32)
    if w.ndim != 4:
        raise ValueError(f"conv kernels need shape (out, in, k, k), not {w.shape}")
    if not 0 <= in_channel < w.shape[1]:
        raise ValueError(f"input channel {in_channel} is outside 0..{w.shape[1] - 1}")
    scaled = normalise(w[:, in_channel], "layer", symmetric=True)
    shown = scaled if kernels is None else scaled[kernels.start:kernels.stop]
    return tile_indexed(shown, DIVERGING, cols=cols, gap=gap, scale=scale)


def resize_map(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float (h, w) map to (H, W) = size, for overlays on the input."""
    v = np.asarray(values, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"a map must be 2-D, not {v.shape}")
    height, width = size
    if v.shape == (height, width):
        return v
    img = Image.fromarray(v, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def overlay(image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.7, cmap: str = HEAT,
            normalise_heat: bool = True) -> np.ndarray:
    """A (h, w) map coloured and blended over an RGB uint8 image; the map is resized to the image.

    The picture goes grey (and a little darker) underneath, so every colour on top belongs to the
    map; opacity grows with the map's value, so weak regions leave the picture visible.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError("image must be a uint8 array of shape (H, W, 3)")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be in [0, 1]")
    h = resize_map(heat, img.shape[:2])
    if normalise_heat:
        h = normalise(h[None], "map")[0]
    h = np.clip(h, 0.0, 1.0)
    grey = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) * 0.8
    colour = colormap(h, cmap).astype(np.float32)
    a = (alpha * (0.3 + 0.7 * h))[..., None]
    out = grey[..., None] * (1.0 - a) + colour * a
    return np.clip(out.round(), 0, 255).astype(np.uint8)


def draw_box(image: np.ndarray, box: Box, *, colour: tuple[int, int, int] = (255, 221, 0), width: int = 2,
             edge: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """The image with the box's visible part outlined (bright line, dark edge: visible on any photo)
    and the unit's centre marked; a copy, the input is left alone."""
    img = Image.fromarray(np.asarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box.clipped
    draw.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=edge, width=width + 2)
    draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
    cy, cx = box.centre
    r = max(2, width + 1)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=edge)
    return np.asarray(img)


def jpeg_bytes(image: np.ndarray, *, quality: int = 90) -> bytes:
    """JPEG-encode a uint8 RGB array: photos and overlays are a fifth of their PNG size."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(image: np.ndarray, *, compress_level: int = 1) -> bytes:
    """PNG-encode a uint8 (H, W) or (H, W, 3) array; fast compression, since it is cached anyway."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()
