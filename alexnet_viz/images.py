"""Images in, tensors out: any upload becomes an RGB picture or one clear ImageError.

Uploads are hostile by default: odd modes (alpha, palettes, 16-bit, CMYK), phone rotations,
animations, bombs that decode to gigabytes, truncated and random bytes. Only five common formats
reach a decoder, the pixel count is checked from the header before any decoding, and every
failure inside Pillow is turned into a sentence a person can act on.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps

from .errors import ImageError
from .pretrained import IMAGENET1K_V1
from .spec import Spec, get_spec

ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_PIXELS = 40_000_000  # 40 MP: any phone photo; an RGBA buffer of it is 160 MB
MAX_BYTES = 200 * 1024 * 1024  # Streamlit's default upload limit
MAX_ASPECT = 8  # longer side kept at most this many times the shorter one before resizing
_ACCEPTED_TEXT = "PNG, JPEG, WebP, GIF or BMP"
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")

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
        if not path.is_file():
            raise ImageError(f"There is no image file at {path}; check the path.")
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB; use a smaller image.")
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
        raise ImageError(f"The file is larger than {MAX_BYTES // 2**20} MB; use a smaller image.")
    if not raw:
        raise ImageError(f"The file is empty; choose a {_ACCEPTED_TEXT} image.")
    return raw


def load_image(data: bytes | str | Path | BinaryIO, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an upload or a file to an RGB image, or raise ImageError saying why not.

    EXIF rotation is applied, transparency is composited on white, 16-bit greys are scaled to 8
    bits, animations give their first frame. Images over `max_pixels` are refused from their
    header, before a byte of pixel data is decoded.
    """
    raw = _read(data)
    name, accepted = _sniff(raw[:1024])
    if name and not accepted:
        raise ImageError(f"{name} images are not accepted; use {_ACCEPTED_TEXT}.")
    try:
        with warnings.catch_warnings():  # Pillow's "corrupt EXIF" chatter is for developers, not users
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(raw, name, max_pixels)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"The image has more than {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, too many "
                         f"to decode safely; scale it down to at most {max_pixels / 1e6:g} megapixels.") from exc
    except Exception as exc:  # Pillow's decoders raise many types on hostile input; all mean "bad file"
        what = f"This {name} file" if name else "This file"
        raise ImageError(f"{what} could not be decoded: it is truncated, damaged or not an image "
                         f"({type(exc).__name__}). Export it again as {_ACCEPTED_TEXT}.") from exc


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
        image.load()  # the first frame; raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # unreadable EXIF is metadata we can do without; the pixels are fine
            upright = image.copy()
        return _as_rgb(upright)


def _as_rgb(image: Image.Image) -> Image.Image:
    """RGB without surprises: alpha over white, 16-bit scaled (convert would clip it to white)."""
    if image.mode in _SIXTEEN_BIT:
        scaled = np.rint(np.asarray(image, dtype=np.float64) / 257.0)  # 65535 -> 255
        image = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


# ImageNet's per-channel mean and std, from the weights' own description (pretrained.py).
IMAGENET_MEAN: tuple[float, float, float] = IMAGENET1K_V1.transforms.mean
IMAGENET_STD: tuple[float, float, float] = IMAGENET1K_V1.transforms.std


def _center_crop(image: Image.Image, height: int, width: int) -> Image.Image:
    """torchvision's centre crop of a PIL image no smaller than the crop, with its rounding."""
    top = int(round((image.height - height) / 2.0))
    left = int(round((image.width - width) / 2.0))
    return image.crop((left, top, left + width, top + height))


def _resize_shorter(image: Image.Image, side: int) -> Image.Image:
    """torchvision's resize of a PIL image's shorter side to `side` (Pillow bilinear, antialiased)."""
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = side, int(side * long / short)  # torchvision truncates the longer side
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return image
    return image.resize((new_w, new_h), Image.Resampling.BILINEAR)


def network_view(image: Image.Image, spec_or_variant: str | Spec = "article") -> Image.Image:
    """The SxS picture the network sees: torchvision's resize of the shorter side, centre crop.

    The shorter side goes to the weights' resize (256), or to the input size when that is larger
    so a big edited input is never padded; very long strips are first trimmed to MAX_ASPECT so the
    resize cannot blow up, which leaves the centre crop unchanged.
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image (from load_image), not {type(image).__name__}")
    spec = get_spec(spec_or_variant)
    image = image if image.mode == "RGB" else _as_rgb(image)
    w, h = image.size
    short = min(w, h)
    if max(w, h) > MAX_ASPECT * short:
        image = _center_crop(image, min(h, MAX_ASPECT * short), min(w, MAX_ASPECT * short))
    image = _resize_shorter(image, max(IMAGENET1K_V1.transforms.resize, spec.input_size))
    return _center_crop(image, spec.input_size, spec.input_size)


def to_tensor(image: Image.Image, spec_or_variant: str | Spec = "article") -> torch.Tensor:
    """The network's input (1, 3, S, S): the weights' preprocessing with the variant's geometry.

    Same arithmetic as torchvision's pil_to_tensor, convert_image_dtype and normalize, so the
    result is bit-for-bit what AlexNet_Weights.IMAGENET1K_V1.transforms() gives.
    """
    pixels = torch.from_numpy(np.array(network_view(image, spec_or_variant), dtype=np.uint8))
    x = pixels.permute(2, 0, 1).to(torch.float32) / 255.0
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


def from_tensor(x: torch.Tensor, spec_or_variant: str | Spec = "article") -> Image.Image:
    """Undo to_tensor's normalisation for display (values outside [0, 1] are clipped)."""
    get_spec(spec_or_variant)  # same statistics for every variant; still reject unknown names
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 3 or x.shape[0] != 3:
        raise ImageError(f"Expected a (1, 3, H, W) or (3, H, W) image tensor, got shape {tuple(x.shape)}.")
    x = x.detach().to("cpu", torch.float32)
    x = x * torch.tensor(IMAGENET_STD).view(3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    hwc = x.clamp(0.0, 1.0).permute(1, 2, 0).numpy()
    return Image.fromarray((hwc * 255).astype(np.uint8))  # truncates, as torchvision's to_pil_image does


__all__ = ["ACCEPTED_FORMATS", "MAX_PIXELS", "MAX_BYTES", "IMAGENET_MEAN", "IMAGENET_STD", "load_image",
           "to_tensor", "from_tensor", "network_view"]
