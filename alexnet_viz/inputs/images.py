"""Images in, tensors out: any upload becomes an RGB picture or one clear ImageError.

Uploads are hostile by default: odd modes (alpha, palettes, 16-bit, CMYK), phone rotations,
animations, bombs that decode to gigabytes, truncated and random bytes. Only five common formats
reach a decoder, the pixel count is checked from the header before any decoding, and every
failure inside Pillow is turned into a sentence a person can act on.

A shared server also has to survive small files that are expensive to open. So, before any pixel
is decoded: the memory the decode and the conversion to RGB will need is estimated from the mode
and refused over DECODE_BUDGET_BYTES; data far shorter than its declared size (which Pillow
would pad quietly) is refused; a JPEG header with thousands of markers (slow to walk in Pillow's
Python parser) is refused. At most DECODE_SLOTS decodes run at once in a process, and a file that
failed is remembered by its hash so a rerun does not decode it again.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps

from alexnet_viz.core.pretrained import IMAGENET1K_V1
from alexnet_viz.core.spec import ARTICLE, Spec
from alexnet_viz.errors import ImageError

ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_PIXELS = 40_000_000  # 40 MP: any phone photo; an RGBA buffer of it is 160 MB
MAX_BYTES = 200 * 1024 * 1024  # Streamlit's default upload limit
# Peak memory of one decode (decoded buffer + conversion to RGB); with DECODE_SLOTS at once this
# bounds what uploads can make the server hold. 256 MiB takes a 40 MP RGB photo (Pillow keeps RGB
# in 4 bytes a pixel) and a 21 MP grey-with-alpha PNG (about 12 bytes a pixel on the way to RGB).
DECODE_BUDGET_BYTES = int(os.environ.get("ALEXNET_DECODE_BUDGET_MB", "256")) * 2**20
DECODE_SLOTS = max(1, int(os.environ.get("ALEXNET_DECODE_SLOTS", "2")))
DECODE_WAIT_S = 60.0  # a decode waits this long for a free slot before the user is told to retry
# Most pixels one byte of a file can honestly describe. Measured with Pillow's own encoders on a
# flat 16 MP image: JPEG q=1 progressive+optimised 255 px/byte, GIF 1,234 (LZW cannot pass ~2,730).
# A file over these is mostly padding the decoder would invent: a truncated JPEG ended by a fake
# EOI marker, or a GIF whose frame covers a few pixels of a huge canvas. PNG (zlib) and WebP
# (libwebp) report truncation themselves, and lossless WebP really does reach 20,000+ px/byte.
MAX_PIXELS_PER_BYTE = {"JPEG": 1024, "GIF": 4096, "BMP": 1024}
MAX_JPEG_SEGMENTS = 1000  # real headers have tens (EXIF, ICC in chunks, tables); Pillow walks each in Python
MAX_JPEG_STRAY_BYTES = 65536  # fill bytes and junk between markers, skipped one by one by Pillow
FAILURE_MEMORY = 256  # failed decodes remembered by hash, least recently seen dropped first
MAX_ASPECT = 8  # longer side kept at most this many times the shorter one before resizing
_ACCEPTED_TEXT = "PNG, JPEG, WebP, GIF or BMP"
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
# Bytes a pixel of each mode takes in Pillow's memory (RGB, LA, YCbCr are padded to 4).
_STORED = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_NOT_FF = re.compile(rb"[^\xff]")
_SLOTS = threading.BoundedSemaphore(DECODE_SLOTS)
_FAILED: OrderedDict[tuple[str, int], str] = OrderedDict()
_FAILED_LOCK = threading.Lock()

# First bytes of formats we refuse, so the refusal can name them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"%PDF", "PDF"), (b"8BPS", "Photoshop (PSD)"),
    (b"\x00\x00\x01\x00", "ICO"), (b"\x00\x00\x02\x00", "CUR"), (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"), (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"), (b"qoif", "QOI"), (b"DDS ", "DDS"), (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS"), (b"icns", "ICNS"), (b"gimp xcf", "GIMP XCF"),
)
_OURS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


def _sniff(head: bytes) -> tuple[str | None, bool]:
    """(format name, accepted?) from the first bytes; (None, False) when nothing matches."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP", True
    for magic, name in _OURS:
        if head.startswith(magic):
            return name, True
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name, False
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return ("AVIF" if brand in (b"avif", b"avis") else "HEIC" if brand[:3] in (b"hei", b"hev", b"mif", b"msf")
                else "MP4/QuickTime video"), False
    text = head[:1024].lstrip().lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "SVG", False
    if len(head) > 2 and head[:1] == b"P" and head[1:2] in b"1234567" and head[2:3] in b" \t\r\n":
        return "PNM (PPM/PGM/PBM)", False
    return None, False


def _read(data: bytes | bytearray | memoryview | str | Path | BinaryIO) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    elif isinstance(data, (str, Path)):
        path = Path(data)
        try:
            info = path.stat()
        except OSError as exc:
            raise ImageError(f"There is no image file at {path} that can be read ({exc.strerror or exc}); "
                             "check the path and its permissions.") from exc
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"There is no image file at {path}: it is a folder, a pipe or a device; "
                             "check the path.")
        if info.st_size > MAX_BYTES:
            raise ImageError(f"{path.name} is larger than {MAX_BYTES // 2**20} MiB; use a smaller image.")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"{path.name} could not be read ({exc.strerror or exc}).") from exc
    elif hasattr(data, "read"):
        raw = data.read(MAX_BYTES + 1)
        if not isinstance(raw, (bytes, bytearray)):
            raise TypeError("load_image needs a file opened in binary mode ('rb')")
    else:
        raise TypeError(f"load_image takes bytes, a path or a binary file, not {type(data).__name__}")
    if len(raw) > MAX_BYTES:
        raise ImageError(f"The file is larger than {MAX_BYTES // 2**20} MiB; use a smaller image.")
    if not raw:
        raise ImageError(f"The file is empty; choose a {_ACCEPTED_TEXT} image.")
    return raw


def load_image(data: bytes | str | Path | BinaryIO, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an upload or a file to an RGB image, or raise ImageError saying why not.

    EXIF rotation is applied, transparency is composited on white, 16-bit greys are scaled to 8
    bits, animations give their first frame. Images over `max_pixels` or over the decode memory
    budget are refused from their header, before a byte of pixel data is decoded.
    """
    raw = _read(data)
    name, accepted = _sniff(raw[:1024])
    if name and not accepted:
        raise ImageError(f"{name} images are not accepted; use {_ACCEPTED_TEXT}.")
    key = (hashlib.sha256(raw).hexdigest(), max_pixels)
    with _FAILED_LOCK:
        known = _FAILED.get(key)
        if known is not None:
            _FAILED.move_to_end(key)
    if known is not None:
        raise ImageError(known)
    if name == "JPEG":
        _check_jpeg_header(raw)
    if not _SLOTS.acquire(timeout=DECODE_WAIT_S):
        raise ImageError("The server is busy decoding other images; try again in a moment.")
    try:
        return _guarded_decode(raw, name, max_pixels)
    except ImageError as exc:
        _remember_failure(key, str(exc))
        raise
    finally:
        _SLOTS.release()


def _remember_failure(key: tuple[str, int], message: str) -> None:
    with _FAILED_LOCK:
        _FAILED[key] = message
        _FAILED.move_to_end(key)
        while len(_FAILED) > FAILURE_MEMORY:
            _FAILED.popitem(last=False)


def forget_failures() -> None:
    """Drop the remembered failures (tests; an operator who changed a limit at run time)."""
    with _FAILED_LOCK:
        _FAILED.clear()


def _guarded_decode(raw: bytes, name: str | None, max_pixels: int) -> Image.Image:
    """_decode with every Pillow failure turned into an ImageError."""
    try:
        with warnings.catch_warnings():  # Pillow's "corrupt EXIF" chatter is for developers, not users
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(raw, name, max_pixels)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"The image has more than {(Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels, too many "
                         f"to decode safely; scale it down to at most {max_pixels / 1e6:g} megapixels.") from exc
    except MemoryError as exc:
        raise ImageError("The server has no memory left to decode this image right now; try a smaller "
                         "image or try again later.") from exc
    except Exception as exc:  # Pillow's decoders raise many types on hostile input; all mean "bad file"
        what = f"This {name} file" if name else "This file"
        raise ImageError(f"{what} could not be decoded: it is truncated, damaged or not an image "
                         f"({type(exc).__name__}). Export it again as {_ACCEPTED_TEXT}.") from exc


def _check_jpeg_header(raw: bytes) -> None:
    """Walk the JPEG's marker segments up to the first scan; refuse headers Pillow would crawl through.

    Pillow parses the header in Python, one loop turn per marker and per stray byte: 3.7 million
    empty markers took it 6.5-9 s. This walk skips each segment by its length, so it costs at most
    MAX_JPEG_SEGMENTS turns, and leaves every judgement about the content to Pillow.
    """
    pos, segments, stray = 2, 0, 0
    while True:
        start = raw.find(b"\xff", pos)
        if start < 0:
            return
        found = _NOT_FF.search(raw, start)
        if found is None:
            return
        stray += found.start() - pos - 1  # junk before the marker and its fill bytes
        marker, pos = raw[found.start()], found.start() + 1
        segments += 1
        if segments > MAX_JPEG_SEGMENTS or stray > MAX_JPEG_STRAY_BYTES:
            raise ImageError(f"This JPEG file's header has more than {MAX_JPEG_SEGMENTS:,} markers or "
                             f"{MAX_JPEG_STRAY_BYTES:,} stray bytes, which no camera or editor writes; "
                             f"export it again as {_ACCEPTED_TEXT}.")
        if marker in (0xDA, 0xD9):  # start of scan or end of image: the header is over
            return
        if marker != 0x01 and not 0xD0 <= marker <= 0xD7:  # every other marker has a length
            pos += int.from_bytes(raw[pos:pos + 2], "big")


def _decode_cost(image: Image.Image) -> int:
    """Bytes a decode of this image to RGB will hold at its peak, from its mode."""
    stored = _STORED.get(image.mode, 4)
    if image.mode == "RGB":
        return 4 * image.width * image.height
    rgba = 4 if (image.mode in _ALPHA_MODES or "transparency" in image.info) else 0
    return (stored + rgba + 4) * image.width * image.height


def _decode(raw: bytes, name: str | None, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except Image.UnidentifiedImageError as exc:
        if name:
            raise ImageError(f"This looks like a {name} file but its header is damaged; export it "
                             "again.") from exc
        raise ImageError(f"This is not an image: its first bytes match no {_ACCEPTED_TEXT} file.") from exc
    with image:
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageError(f"The image is {width}x{height} pixels, which is empty.")
        if width * height > max_pixels:
            raise ImageError(f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels), "
                             f"more than the {max_pixels / 1e6:g} megapixels accepted; scale it down first.")
        per_byte = MAX_PIXELS_PER_BYTE.get(image.format or "")
        if per_byte is not None and width * height > per_byte * len(raw):
            raise ImageError(f"This {image.format} file claims {width}x{height} pixels but has only "
                             f"{len(raw):,} bytes: it is truncated or mostly empty, and decoding it would "
                             f"invent the missing pixels. Export it again as {_ACCEPTED_TEXT}.")
        cost = _decode_cost(image)
        if cost > DECODE_BUDGET_BYTES:
            fits = DECODE_BUDGET_BYTES / cost * width * height
            raise ImageError(f"The image is {width}x{height} pixels in mode {image.mode}; decoding it would take "
                             f"about {cost / 2**20:,.0f} MiB, more than the {DECODE_BUDGET_BYTES / 2**20:,.0f} MiB "
                             f"one image may use here. Scale it down to about {fits / 1e6:.0f} megapixels.")
        image.load()  # the first frame; raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
        # In place: no second full-size copy. Unreadable EXIF is metadata we can do without.
        with contextlib.suppress(Exception):
            ImageOps.exif_transpose(image, in_place=True)
        return _as_rgb(image)  # leaving `with` closes only the file: the pixels stay


def _as_rgb(image: Image.Image) -> Image.Image:
    """RGB without surprises: alpha over white, 16-bit scaled (convert would clip it to white).

    An RGB image is returned as it is (no copy): the callers decide whether they need one.
    """
    if image.mode in _SIXTEEN_BIT:
        image = _sixteen_to_eight(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)  # in place: one full-size RGBA buffer fewer than Image.alpha_composite
        del rgba
        return white.convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _sixteen_to_eight(image: Image.Image) -> Image.Image:
    """round(v / 257) clipped to 0..255, a band of rows at a time in int64: 65535 -> 255, no float64 copy.

    (v + 128) // 257 equals numpy's round-half-even of v / 257 for every integer v: 257 is odd, so
    v / 257 is never exactly halfway between two integers.
    """
    width, height = image.size
    out = np.empty((height, width), dtype=np.uint8)
    band = max(1, 2**17 // max(width, 1))  # about 1 MB of int64 per band
    for top in range(0, height, band):
        rows = np.asarray(image.crop((0, top, width, min(height, top + band))), dtype=np.int64)
        out[top:top + rows.shape[0]] = np.clip((rows + 128) // 257, 0, 255)
    return Image.fromarray(out)


# ImageNet's per-channel mean and std, from the weights' own description (pretrained.py).
IMAGENET_MEAN: tuple[float, float, float] = IMAGENET1K_V1.transforms.mean
IMAGENET_STD: tuple[float, float, float] = IMAGENET1K_V1.transforms.std


def center_crop(image: Image.Image, height: int, width: int) -> Image.Image:
    """torchvision's centre crop of a PIL image no smaller than the crop, with its rounding."""
    top = int(round((image.height - height) / 2.0))
    left = int(round((image.width - width) / 2.0))
    return image.crop((left, top, left + width, top + height))


def resize_shorter(image: Image.Image, side: int) -> Image.Image:
    """torchvision's resize of a PIL image's shorter side to `side` (Pillow bilinear, antialiased)."""
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = side, int(side * long / short)  # torchvision truncates the longer side
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return image
    return image.resize((new_w, new_h), Image.Resampling.BILINEAR)


def network_view(image: Image.Image, spec: Spec = ARTICLE) -> Image.Image:
    """The SxS picture the network sees: torchvision's resize of the shorter side, centre crop.

    The shorter side goes to the weights' resize (256), or to the input size when that is larger
    so a big edited input is never padded; very long strips are first trimmed to MAX_ASPECT so the
    resize cannot blow up, which leaves the centre crop unchanged.
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image (from load_image), not {type(image).__name__}")
    image = image if image.mode == "RGB" else _as_rgb(image)
    w, h = image.size
    short = min(w, h)
    if max(w, h) > MAX_ASPECT * short:
        image = center_crop(image, min(h, MAX_ASPECT * short), min(w, MAX_ASPECT * short))
    image = resize_shorter(image, max(IMAGENET1K_V1.transforms.resize, spec.input_size))
    return center_crop(image, spec.input_size, spec.input_size)


def to_tensor(image: Image.Image, spec: Spec = ARTICLE) -> torch.Tensor:
    """The network's input (1, 3, S, S): the weights' preprocessing with the variant's geometry.

    Same arithmetic as torchvision's pil_to_tensor, convert_image_dtype and normalize, so the
    result is bit-for-bit what AlexNet_Weights.IMAGENET1K_V1.transforms() gives.
    """
    pixels = torch.from_numpy(np.array(network_view(image, spec), dtype=np.uint8))
    x = pixels.permute(2, 0, 1).to(torch.float32) / 255.0
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


def from_tensor(x: torch.Tensor) -> Image.Image:
    """Undo to_tensor's normalisation for display (values outside [0, 1] are clipped); every variant shares it."""
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 3 or x.shape[0] != 3:
        raise ImageError(f"Expected a (1, 3, H, W) or (3, H, W) image tensor, got shape {tuple(x.shape)}.")
    x = x.detach().to("cpu", torch.float32)
    x = x * torch.tensor(IMAGENET_STD).view(3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    hwc = x.clamp(0.0, 1.0).permute(1, 2, 0).numpy()
    return Image.fromarray((hwc * 255).astype(np.uint8))  # truncates, as torchvision's to_pil_image does


__all__ = ["ACCEPTED_FORMATS", "MAX_PIXELS", "MAX_BYTES", "DECODE_BUDGET_BYTES", "IMAGENET_MEAN", "IMAGENET_STD",
           "load_image", "to_tensor", "from_tensor", "network_view"]
