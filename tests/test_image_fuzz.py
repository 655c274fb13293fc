"""Fuzzing load_image: random and mutated image bytes give an RGB image or ImageError, nothing else.

The pixel cap is lowered to 1 MP here only so that headers mutated into large sizes decode
quickly; the refusal path for big headers is the same code at any cap.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from alexnet_viz.errors import ImageError
from alexnet_viz.inputs.images import load_image
from tests import imagegen as gen

pytestmark = pytest.mark.slow  # hundreds of decodes: the fast loop keeps the fixed corpora of test_images

FUZZ_CAP = 1_000_000
SMALL = (8, 6)
SEEDS: tuple[bytes, ...] = (
    gen.sample_png_bytes(SMALL), gen.sample_jpeg_bytes(SMALL), gen.sample_webp_bytes(SMALL),
    gen.sample_gif_bytes(SMALL), gen.sample_bmp_bytes(SMALL), gen.rgba_png_bytes(), gen.la_png_bytes(),
    gen.palette_transparent_png_bytes(), gen.palette_transparent_gif_bytes(), gen.bilevel_bmp_bytes(),
    gen.cmyk_jpeg_bytes(), gen.png16_bytes(), gen.exif_rotated_jpeg_bytes(), gen.animated_gif_bytes(),
    gen.animated_webp_bytes(), gen.rgba_webp_bytes(),
)
MAGICS = (b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"GIF87a", b"BM", b"RIFF\x00\x01\x00\x00WEBP",
          b"RIFF\x00\x01\x00\x00WEBPVP8X", b"II*\x00")
FUZZ = settings(max_examples=2000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """A valid tiny image with 1-4 bit flips, truncations, header splices, insertions or deletions."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for op in draw(st.lists(st.sampled_from(["flip", "header_flip", "truncate", "splice", "insert", "delete",
                                             "overwrite"]), min_size=1, max_size=4)):
        if not data:
            break
        last = len(data) - 1
        if op == "flip" or op == "header_flip":
            i = draw(st.integers(0, min(last, 64) if op == "header_flip" else last))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            data = data[: draw(st.integers(0, last))]
        elif op == "splice":  # one file's header on another's body
            other = draw(st.sampled_from(SEEDS))
            cut = draw(st.integers(1, min(len(other), 96)))
            data = bytearray(other[:cut]) + data[cut:]
        elif op == "insert":
            i = draw(st.integers(0, last))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            i = draw(st.integers(0, last))
            del data[i:i + draw(st.integers(1, 16))]
        else:
            i = draw(st.integers(0, last))
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[i:i + len(chunk)] = chunk
    return bytes(data)


def _only_rgb_or_image_error(data: bytes) -> None:
    try:
        image = load_image(data, max_pixels=FUZZ_CAP)
    except ImageError as exc:
        assert str(exc)
        return
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    assert image.width * image.height <= FUZZ_CAP


@FUZZ
@given(st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGICS), st.binary(max_size=512)))
def test_random_bytes(data: bytes) -> None:
    _only_rgb_or_image_error(data)


@FUZZ
@given(mutated_images())
def test_mutated_images(data: bytes) -> None:
    _only_rgb_or_image_error(data)


def test_seeds_are_valid_images() -> None:
    """The mutations start from files that do load, so the fuzz reaches the decoders."""
    for data in SEEDS:
        assert load_image(data, max_pixels=FUZZ_CAP).mode == "RGB"
