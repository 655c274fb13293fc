"""Odd, hostile and ordinary image files made in memory, for tests of anything that takes uploads.

Every function returns the bytes of one file; all are deterministic and tiny except where the
point is a header that claims to be huge (those carry almost no pixel data).
"""
from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
from PIL import Image

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def sample_image(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A smooth RGB gradient (red across, green down, blue constant): photo-like and compressible."""
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float64)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float64)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, np.full_like(x, 96.0)], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8))


def sample_png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(sample_image(size), "PNG")


def sample_jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(sample_image(size), "JPEG", quality=90)


def sample_webp_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(sample_image(size), "WEBP", quality=90)


def sample_gif_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(sample_image(size), "GIF")


def sample_bmp_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(sample_image(size), "BMP")


def _half_transparent(mode: str, colour: object) -> Image.Image:
    """Left half opaque `colour`, right half fully transparent (it must come out white)."""
    image = Image.new(mode, (32, 16), colour)
    alpha = Image.new("L", (32, 16), 255)
    alpha.paste(0, (16, 0, 32, 16))
    image.putalpha(alpha)
    return image


def rgba_png_bytes() -> bytes:
    """32x16 RGBA: left half opaque red, right half transparent black."""
    return _save(_half_transparent("RGB", RED), "PNG")


def rgba_webp_bytes() -> bytes:
    return _save(_half_transparent("RGB", RED), "WEBP", lossless=True)


def la_png_bytes() -> bytes:
    """32x16 grey + alpha: left half opaque grey 60, right half transparent."""
    return _save(_half_transparent("L", 60), "PNG")


def palette_png_bytes() -> bytes:
    """Mode P without transparency."""
    return _save(sample_image((32, 16)).quantize(16), "PNG")


def palette_transparent_png_bytes() -> bytes:
    """Mode P, 32x16: left half palette index 1 (red), right half index 0, which is transparent."""
    image = Image.new("P", (32, 16), 0)
    image.putpalette([0, 0, 0, *RED] + [0] * (256 - 2) * 3)
    image.paste(1, (0, 0, 16, 16))
    return _save(image, "PNG", transparency=0)


def palette_transparent_gif_bytes() -> bytes:
    image = Image.new("P", (32, 16), 0)
    image.putpalette([0, 0, 0, *RED] + [0] * (256 - 2) * 3)
    image.paste(1, (0, 0, 16, 16))
    return _save(image, "GIF", transparency=0)


def grey_png_bytes() -> bytes:
    """Mode L gradient."""
    return _save(sample_image((32, 16)).convert("L"), "PNG")


def bilevel_bmp_bytes() -> bytes:
    """Mode 1 (one bit per pixel) BMP."""
    return _save(sample_image((32, 16)).convert("1"), "BMP")


def cmyk_jpeg_bytes() -> bytes:
    """A CMYK JPEG, all red (C=0, M=255, Y=255, K=0)."""
    return _save(Image.new("CMYK", (32, 16), (0, 255, 255, 0)), "JPEG", quality=95)


def png16_bytes() -> bytes:
    """A 16-bit greyscale (I;16) PNG, 64x8, ramping 0..65535 left to right.

    A naive convert("RGB") clips everything above 255 to white.
    """
    ramp = np.linspace(0, 65535, 64)[None, :].repeat(8, 0).astype(np.uint16)
    return _save(Image.fromarray(ramp), "PNG")


def exif_rotated_jpeg_bytes() -> bytes:
    """Stored 40 wide x 20 high with EXIF orientation 6 (rotate 90° clockwise): shown 20x40."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(sample_image((40, 20)), "JPEG", exif=exif)


def _two_frames(fmt: str, **options: object) -> bytes:
    first, second = Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)
    return _save(first, fmt, save_all=True, append_images=[second], duration=100, loop=0, **options)


def animated_gif_bytes() -> bytes:
    """Two frames, red then blue: the first (red) one must be used."""
    return _two_frames("GIF")


def animated_webp_bytes() -> bytes:
    """Two frames, red then blue, lossless."""
    return _two_frames("WEBP", lossless=True)


def truncated_png_bytes() -> bytes:
    """A valid PNG cut in the middle of its pixel data."""
    data = _save(Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)), "PNG")
    return data[: len(data) // 2]


def truncated_jpeg_bytes() -> bytes:
    data = sample_jpeg_bytes((64, 64))
    return data[: len(data) // 2]


def truncated_gif_bytes() -> bytes:
    data = _save(Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)), "GIF")
    return data[: len(data) // 2]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def header_only_png_bytes(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG whose header claims width x height pixels (RGB; 4 = grey+alpha) but holds one row of data.

    A decoder that trusts the header allocates width*height*3 bytes before finding out.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    row = zlib.compress(b"\x00" + b"\x00" * (channels * min(width, 1024)))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", row) + _chunk(b"IEND", b"")


def over_cap_png_bytes() -> bytes:
    """7000x6000 = 42 MP: over a 40 MP cap, under Pillow's own warning limit (~89.5 MP)."""
    return header_only_png_bytes(7000, 6000)


def bomb_png_bytes() -> bytes:
    """10000x10000 = 100 MP: Pillow only warns about this (DecompressionBombWarning)."""
    return header_only_png_bytes(10_000, 10_000)


def huge_bomb_png_bytes() -> bytes:
    """30000x30000 = 900 MP: Pillow raises DecompressionBombError when opening it."""
    return header_only_png_bytes(30_000, 30_000)


def grey_alpha_over_budget_png_bytes() -> bytes:
    """6000x5000 grey+alpha: under the pixel cap, but ~12 bytes a pixel on its way to RGB (~340 MiB)."""
    return header_only_png_bytes(6000, 5000, colour_type=4)


def fake_eoi_jpeg_bytes() -> bytes:
    """A 4096x4096 JPEG cut a few bytes into its scan and closed with an end marker.

    libjpeg then invents the other 16.7 M pixels (grey) without an error: 700 bytes become 64 MB.
    """
    data = _save(Image.new("RGB", (4096, 4096), BLUE), "JPEG", quality=50)
    scan = data.index(b"\xff\xda")
    return data[: scan + 40] + b"\xff\xd9"


def tiny_frame_gif_bytes() -> bytes:
    """A 35-byte GIF: a 6320x6320 canvas with one 1x1 frame; Pillow fills the rest with background."""
    side = struct.pack("<HH", 6320, 6320)
    frame = b"," + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
    lzw = b"\x02" + b"\x02\x44\x01\x00"  # min code size 2; clear, index 0, end; block terminator
    return b"GIF89a" + side + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff" + frame + lzw + b";"


def many_markers_jpeg_bytes(count: int = 5000) -> bytes:
    """A valid small JPEG with `count` empty comment markers after its start: Pillow walks each in Python.

    The red-team file had 3.67 M of them (14 MB, 6.5-9 s to open); 5,000 make the point in 20 kB.
    """
    data = sample_jpeg_bytes()
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def damaged_header_png_bytes() -> bytes:
    """The PNG signature followed by garbage."""
    return b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def tiff_bytes() -> bytes:
    return _save(sample_image((16, 16)), "TIFF")


def ico_bytes() -> bytes:
    return _save(sample_image((16, 16)), "ICO")


def ppm_bytes() -> bytes:
    return _save(sample_image((16, 16)), "PPM")


def pdf_bytes() -> bytes:
    """Dates pinned: Pillow stamps the current second, so two calls across a second boundary differed."""
    when = time.gmtime(1_767_225_600)  # 2026-01-01
    return _save(sample_image((16, 16)), "PDF", creationDate=when, modDate=when)


def svg_bytes() -> bytes:
    return b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def empty_bytes() -> bytes:
    return b""


def text_bytes() -> bytes:
    return b"Hello! This is a text file pretending to be an image.\n" * 4


def accepted_corpus() -> dict[str, bytes]:
    """Files load_image must turn into RGB images."""
    return {
        "png": sample_png_bytes(), "jpeg": sample_jpeg_bytes(), "webp": sample_webp_bytes(),
        "gif": sample_gif_bytes(), "bmp": sample_bmp_bytes(), "rgba_png": rgba_png_bytes(),
        "rgba_webp": rgba_webp_bytes(), "la_png": la_png_bytes(), "palette_png": palette_png_bytes(),
        "palette_transparent_png": palette_transparent_png_bytes(),
        "palette_transparent_gif": palette_transparent_gif_bytes(), "grey_png": grey_png_bytes(),
        "bilevel_bmp": bilevel_bmp_bytes(), "cmyk_jpeg": cmyk_jpeg_bytes(), "png16": png16_bytes(),
        "exif_rotated_jpeg": exif_rotated_jpeg_bytes(), "animated_gif": animated_gif_bytes(),
        "animated_webp": animated_webp_bytes(),
    }


def refused_corpus() -> dict[str, bytes]:
    """Files load_image must refuse with its own error."""
    return {
        "truncated_png": truncated_png_bytes(), "truncated_jpeg": truncated_jpeg_bytes(),
        "truncated_gif": truncated_gif_bytes(), "over_cap_png": over_cap_png_bytes(),
        "bomb_png": bomb_png_bytes(), "huge_bomb_png": huge_bomb_png_bytes(),
        "damaged_header_png": damaged_header_png_bytes(), "grey_alpha_over_budget_png":
        grey_alpha_over_budget_png_bytes(), "fake_eoi_jpeg": fake_eoi_jpeg_bytes(),
        "tiny_frame_gif": tiny_frame_gif_bytes(), "many_markers_jpeg": many_markers_jpeg_bytes(),
        "tiff": tiff_bytes(), "ico": ico_bytes(),
        "ppm": ppm_bytes(), "pdf": pdf_bytes(), "svg": svg_bytes(), "empty": empty_bytes(),
        "text": text_bytes(),
    }
