"""load_image on odd and hostile files; to_tensor/from_tensor/network_view geometry and statistics."""
from __future__ import annotations

import io
from functools import partial

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.errors import AlexVizError, ImageError
from alexnet_viz.inputs import images
from alexnet_viz.inputs.images import from_tensor, load_image, network_view, to_tensor
from tests import imagegen as gen
from tests.helpers import ROOT, run_together

WHITE = (255, 255, 255)


@pytest.mark.parametrize("name", sorted(gen.accepted_corpus()))
def test_accepted_corpus_gives_rgb(name: str) -> None:
    image = load_image(gen.accepted_corpus()[name])
    assert image.mode == "RGB"
    assert image.size[0] > 0 and image.size[1] > 0
    image.load()  # fully decoded, detached from the bytes


@pytest.mark.parametrize("name", sorted(gen.refused_corpus()))
def test_refused_corpus_gives_library_error(name: str) -> None:
    with pytest.raises(ImageError) as err:
        load_image(gen.refused_corpus()[name])
    assert isinstance(err.value, ValueError) and isinstance(err.value, AlexVizError)
    message = str(err.value)
    assert message.endswith(".") and len(message.split()) >= 6  # a sentence, not an exception name


def test_corpora_cover_every_generator() -> None:
    """A file maker added to imagegen must land in one corpus, so the corpus tests see it."""
    makers = [n for n in dir(gen) if n.endswith("_bytes") and n != "header_only_png_bytes"]
    files = list(gen.accepted_corpus().values()) + list(gen.refused_corpus().values())
    missing = [n for n in makers if getattr(gen, n)() not in files]
    assert makers and not missing, missing


def test_text_mode_file_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="binary"):
        load_image(io.StringIO("not bytes"))


@pytest.mark.parametrize("maker", [gen.rgba_png_bytes, gen.rgba_webp_bytes, gen.palette_transparent_png_bytes,
                                   gen.palette_transparent_gif_bytes])
def test_transparency_composited_on_white(maker) -> None:
    pixels = np.asarray(load_image(maker()))
    assert tuple(pixels[8, 4]) == gen.RED  # opaque half keeps its colour
    assert tuple(pixels[8, 28]) == WHITE  # transparent black becomes white, not black


def test_grey_alpha_composited_on_white() -> None:
    pixels = np.asarray(load_image(gen.la_png_bytes()))
    assert tuple(pixels[8, 4]) == (60, 60, 60)
    assert tuple(pixels[8, 28]) == WHITE


def test_sixteen_bit_is_scaled_not_clipped() -> None:
    raw = Image.open(io.BytesIO(gen.png16_bytes()))
    assert raw.mode.startswith("I")
    assert (np.asarray(raw.convert("RGB")) == 255).mean() > 0.95  # the naive path really is white
    grey = np.asarray(load_image(gen.png16_bytes()))[0, :, 0].astype(int)
    assert grey[0] == 0 and grey[-1] == 255
    assert np.all(np.diff(grey) >= 0) and 100 < grey.mean() < 156
    assert len(np.unique(grey)) > 32


def test_cmyk_becomes_red_rgb() -> None:
    r, g, b = np.asarray(load_image(gen.cmyk_jpeg_bytes())).reshape(-1, 3).mean(0)
    assert r > 200 and g < 40 and b < 40


def test_exif_orientation_applied() -> None:
    raw = Image.open(io.BytesIO(gen.exif_rotated_jpeg_bytes()))
    assert raw.size == (40, 20)
    assert load_image(gen.exif_rotated_jpeg_bytes()).size == (20, 40)


@pytest.mark.parametrize("maker", [gen.animated_gif_bytes, gen.animated_webp_bytes])
def test_animation_gives_first_frame(maker) -> None:
    assert getattr(Image.open(io.BytesIO(maker())), "n_frames", 1) == 2
    r, g, b = np.asarray(load_image(maker())).reshape(-1, 3).mean(0)
    assert r > 200 and b < 60  # red first frame, not the blue second


@pytest.mark.parametrize("maker,fmt", [(gen.tiff_bytes, "TIFF"), (gen.ico_bytes, "ICO"), (gen.pdf_bytes, "PDF"),
                                       (gen.svg_bytes, "SVG")])
def test_other_formats_refused_by_name(maker, fmt: str) -> None:
    with pytest.raises(ImageError, match=f"^{fmt} images are not accepted; use PNG, JPEG, WebP, GIF or BMP"):
        load_image(maker())


@pytest.mark.parametrize("maker", [gen.over_cap_png_bytes, gen.bomb_png_bytes, gen.huge_bomb_png_bytes])
def test_pixel_cap_checked_before_decoding(maker) -> None:
    with pytest.raises(ImageError, match="megapixels"):
        load_image(maker())


def test_own_cap_is_adjustable_and_independent_of_pillow() -> None:
    assert images.MAX_PIXELS < Image.MAX_IMAGE_PIXELS
    data = gen.sample_png_bytes((64, 48))
    assert load_image(data, max_pixels=64 * 48).size == (64, 48)
    with pytest.raises(ImageError, match="64x48 pixels"):
        load_image(data, max_pixels=64 * 48 - 1)


@pytest.mark.parametrize("maker", [gen.truncated_png_bytes, gen.truncated_jpeg_bytes, gen.truncated_gif_bytes])
def test_truncated_refused_and_setting_untouched(maker) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(ImageError, match="truncated"):
        load_image(maker())
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_empty_and_text_refused() -> None:
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="not an image"):
        load_image(gen.text_bytes())


def test_paths_and_file_objects(tmp_path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(gen.sample_png_bytes())
    assert load_image(path).size == (64, 48)
    assert load_image(str(path)).size == (64, 48)
    assert load_image(io.BytesIO(gen.sample_png_bytes())).size == (64, 48)
    with pytest.raises(ImageError, match="no image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="no image file"):
        load_image(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(tmp_path / "empty.jpg")


@pytest.mark.parametrize("variant,side", [("article", 224), ("torchvision", 224), ("paper", 227)])
def test_to_tensor_geometry(variant: str, side: int) -> None:
    x = to_tensor(gen.sample_image((300, 200)), VARIANTS[variant])
    assert x.shape == (1, 3, side, side) and x.dtype == torch.float32
    assert network_view(gen.sample_image((300, 200)), VARIANTS[variant]).size == (side, side)


def test_statistics_are_the_weights_own() -> None:
    from torchvision.models import AlexNet_Weights

    prep = AlexNet_Weights.IMAGENET1K_V1.transforms()
    assert list(images.IMAGENET_MEAN) == list(prep.mean)
    assert list(images.IMAGENET_STD) == list(prep.std)


SIZES = [(400, 300), (300, 400), (256, 256), (224, 224), (227, 227), (255, 257), (301, 199), (333, 1001),
         (97, 61), (1, 5), (2000, 3), (512, 384)]  # (width, height): wide, tall, square, odd, tiny, strips


def test_to_tensor_matches_the_weights_own_preprocessing() -> None:
    from torchvision.models import AlexNet_Weights

    rng = np.random.default_rng(0)
    for w, h in SIZES[:4]:
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        reference = AlexNet_Weights.IMAGENET1K_V1.transforms()(image).unsqueeze(0)
        assert torch.equal(to_tensor(image), reference), (w, h)


@pytest.mark.parametrize("variant", ["article", "torchvision", "paper"])
@pytest.mark.parametrize("size", SIZES)
def test_preprocessing_is_torchvisions_bit_for_bit(variant: str, size: tuple[int, int]) -> None:
    """Resize, crop, scaling and normalisation done without torchvision give its exact result."""
    import torchvision.transforms.functional as TF
    from torchvision.models import AlexNet_Weights
    from torchvision.transforms import InterpolationMode

    spec = VARIANTS[variant]
    w, h = size
    image = Image.fromarray(np.random.default_rng(w * h).integers(0, 256, (h, w, 3), dtype=np.uint8))
    short = min(w, h)
    trimmed = TF.center_crop(image, [min(h, images.MAX_ASPECT * short), min(w, images.MAX_ASPECT * short)])
    resize = AlexNet_Weights.IMAGENET1K_V1.transforms().resize_size[0]
    view = TF.center_crop(TF.resize(trimmed, [max(resize, spec.input_size)], InterpolationMode.BILINEAR,
                                    antialias=True), [spec.input_size, spec.input_size])
    assert network_view(image, spec).tobytes() == view.tobytes()
    x = TF.normalize(TF.convert_image_dtype(TF.pil_to_tensor(view), torch.float32),
                     list(images.IMAGENET_MEAN), list(images.IMAGENET_STD)).unsqueeze(0)
    ours = to_tensor(image, spec)
    assert ours.shape == (1, 3, spec.input_size, spec.input_size) and torch.equal(ours, x)
    unnormalised = (x[0] * torch.tensor(images.IMAGENET_STD).view(3, 1, 1)
                    + torch.tensor(images.IMAGENET_MEAN).view(3, 1, 1))
    assert from_tensor(ours).tobytes() == TF.to_pil_image(unnormalised.clamp(0, 1)).tobytes()


def test_from_tensor_inverts_to_tensor() -> None:
    image = gen.sample_image((320, 260))
    back = np.asarray(from_tensor(to_tensor(image))).astype(int)
    view = np.asarray(network_view(image)).astype(int)
    assert back.shape == view.shape == (224, 224, 3)
    assert np.abs(back - view).max() <= 1
    assert np.asarray(from_tensor(to_tensor(image)[0])).shape == (224, 224, 3)
    with pytest.raises(ImageError, match="tensor"):
        from_tensor(torch.zeros(1, 1, 8, 8))


def test_non_rgb_images_are_converted_before_preprocessing() -> None:
    rgba = Image.open(io.BytesIO(gen.rgba_png_bytes()))
    assert rgba.mode == "RGBA"
    assert to_tensor(rgba).shape == (1, 3, 224, 224)
    assert np.asarray(network_view(rgba))[:, -1].min() > 240  # transparent side shows white


def test_extreme_aspect_ratio_stays_small() -> None:
    strip = Image.new("RGB", (20_000, 2), (10, 200, 30))
    view = network_view(strip)
    assert view.size == (224, 224)
    assert tuple(np.asarray(view)[112, 112]) == (10, 200, 30)


# --- Costly decodes from small files (issue 12) ------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_failure_memory():
    """Each test sees load_image's remembered failures empty, so messages come from a real decode."""
    images.forget_failures()
    yield
    images.forget_failures()


@pytest.mark.parametrize("maker", [gen.fake_eoi_jpeg_bytes, gen.tiny_frame_gif_bytes])
def test_data_far_shorter_than_its_declared_size_is_refused(maker) -> None:
    raw = maker()
    declared = Image.open(io.BytesIO(raw))
    declared.load()  # Pillow itself pads the missing pixels without complaint: that is the hole
    assert declared.width * declared.height > 10_000_000 and len(raw) < 1000
    with pytest.raises(ImageError, match="claims .* pixels but has only"):
        load_image(raw)


def test_real_photos_are_far_under_the_pixels_per_byte_bound() -> None:
    for path in sorted((ROOT / "assets" / "samples").glob("*.jpg")):
        image = load_image(path)
        assert image.width * image.height < 100 * path.stat().st_size


def test_decode_memory_is_budgeted_by_mode_before_decoding() -> None:
    rgb = gen.header_only_png_bytes(6000, 5000)  # 30 MP RGB: 4 bytes a pixel, 114 MiB
    with pytest.raises(ImageError, match="truncated"):  # got as far as decoding (only one row is there)
        load_image(rgb)
    with pytest.raises(ImageError, match=r"about 343 MiB, more than the 256 MiB") as err:
        load_image(gen.grey_alpha_over_budget_png_bytes())  # same pixels, grey+alpha: 12 bytes a pixel
    assert "Scale it down to about 22 megapixels" in str(err.value)


def test_jpeg_with_thousands_of_markers_is_refused_from_its_header() -> None:
    assert Image.open(io.BytesIO(gen.many_markers_jpeg_bytes())).size == (64, 48)  # Pillow would open it
    with pytest.raises(ImageError, match="markers"):
        load_image(gen.many_markers_jpeg_bytes())
    assert load_image(gen.many_markers_jpeg_bytes(count=50)).size == (64, 48)  # a few are harmless


def test_sixteen_bit_conversion_needs_no_float64_copy() -> None:
    import tracemalloc

    grey = np.arange(2000 * 1000, dtype=np.uint32).reshape(1000, 2000) % 65536
    raw = gen._save(Image.fromarray(grey.astype(np.uint16)), "PNG")
    tracemalloc.start()
    try:
        image = load_image(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * grey.size, f"numpy peak {peak / 2**20:.1f} MiB for a 2 MP 16-bit image"
    expected = np.clip(np.rint(grey / 257.0), 0, 255).astype(np.uint8)
    assert np.array_equal(np.asarray(image)[:, :, 0], expected)


def test_at_most_decode_slots_decodes_run_at_once(monkeypatch) -> None:
    import threading
    import time

    running, peak, lock = [0], [0], threading.Lock()
    real = images._decode

    def slow_decode(*args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.05)
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(images, "_decode", slow_decode)
    files = [gen.sample_png_bytes((64 + i, 48)) for i in range(6)]
    run_together([partial(load_image, f) for f in files])
    assert 1 <= peak[0] <= images.DECODE_SLOTS <= 2


def test_a_failed_decode_is_remembered_by_hash_not_repeated(monkeypatch) -> None:
    calls = []
    real = images._decode
    monkeypatch.setattr(images, "_decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    bad = gen.truncated_png_bytes()
    messages = []
    for _ in range(3):
        with pytest.raises(ImageError) as err:
            load_image(bad)
        messages.append(str(err.value))
    assert len(calls) == 1 and len(set(messages)) == 1
    load_image(gen.sample_png_bytes())
    load_image(gen.sample_png_bytes())
    assert len(calls) == 3  # successes are not remembered here (the app caches them itself)
