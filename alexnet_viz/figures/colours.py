"""The app's one colour language: signed values, magnitudes and attributions, defined once.

Every view that draws a sign (the operations' numbers, fully connected weights, filters, maps
before the ReLU) uses `DIVERGING`: negative blue, zero white, positive red, so a learner who reads
one view reads them all. Values with no sign (activations after a ReLU) use `SEQUENTIAL`
(viridis); how much a region supports a class (Grad-CAM, saliency, occlusion) uses `HEAT`
(inferno). Anchors are sampled from matplotlib's maps; linear interpolation between them is
visually faithful.
"""
from __future__ import annotations

RGB = tuple[int, int, int]

NEGATIVE: RGB = (33, 102, 172)
ZERO: RGB = (247, 247, 247)
POSITIVE: RGB = (178, 24, 43)

# name -> anchors from the lowest to the highest value
ANCHORS: dict[str, tuple[RGB, ...]] = {
    "viridis": ((68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)),
    "inferno": ((0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85),
                (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164)),
    "gray": ((0, 0, 0), (255, 255, 255)),
    "diverging": ((5, 48, 97), NEGATIVE, (67, 147, 195), (146, 197, 222), ZERO,
                  (244, 165, 130), (214, 96, 77), POSITIVE, (103, 0, 31)),
}
DIVERGING = "diverging"  # signed values: negative blue, zero white, positive red
SEQUENTIAL = "viridis"  # values that have no sign (after a ReLU)
HEAT = "inferno"  # attributions: how much a region supports a class

SIGN_WORDS = "red = positive, blue = negative"
SIGN_LEGEND = SIGN_WORDS + ", white = zero"


def hex_colour(rgb: RGB) -> str:
    """'#rrggbb' for plotly and CSS."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def plotly_scale(name: str) -> list[list[float | str]]:
    """A plotly colorscale ([[t, '#rrggbb'], ...]) with the same anchors as the pictures."""
    anchors = ANCHORS[name]
    last = len(anchors) - 1
    return [[i / last, hex_colour(c)] for i, c in enumerate(anchors)]


def css_gradient(name: str) -> str:
    """A CSS linear-gradient, left (lowest) to right (highest), for colour bars drawn in HTML."""
    return "linear-gradient(to right, " + ", ".join(hex_colour(c) for c in ANCHORS[name]) + ")"


def sign_colour(value: float) -> str:
    """The hue of a value's sign (lines, edges, bars): positive red, negative blue."""
    return hex_colour(POSITIVE if value >= 0 else NEGATIVE)
