"""The one description of the ImageNet weights equals torchvision's enum entry, field by field."""
from __future__ import annotations

import sys

import pytest

from alexnet_viz.core.pretrained import IMAGENET1K_V1, URL_ENV_VAR, hash_in_name, imagenet_weights


def test_every_fact_mirrors_torchvisions_entry() -> None:
    from torchvision.models import AlexNet_Weights
    from torchvision.transforms import InterpolationMode

    entry = AlexNet_Weights.IMAGENET1K_V1
    meta = entry.meta
    assert IMAGENET1K_V1.source == f"torchvision {type(entry).__name__}.{entry.name}"
    assert IMAGENET1K_V1.name == entry.name and IMAGENET1K_V1.url == entry.url
    assert IMAGENET1K_V1.metrics == meta["_metrics"]["ImageNet-1K"]
    assert IMAGENET1K_V1.gflops == meta["_ops"] and IMAGENET1K_V1.num_params == meta["num_params"]
    assert IMAGENET1K_V1.min_size == meta["min_size"] and IMAGENET1K_V1.recipe == meta["recipe"]
    assert round(IMAGENET1K_V1.size_bytes / 2**20, 3) == meta["_file_size"]  # torchvision's "MB" are MiB
    prep, ours = entry.transforms(), IMAGENET1K_V1.transforms
    assert [ours.resize] == prep.resize_size and [ours.crop] == prep.crop_size
    assert list(ours.mean) == prep.mean and list(ours.std) == prep.std
    assert prep.interpolation == InterpolationMode.BILINEAR and ours.interpolation == "bilinear"
    assert IMAGENET1K_V1.categories == tuple(meta["categories"])  # the shipped data file


def test_hash_checks() -> None:
    assert IMAGENET1K_V1.sha_prefix == "7be5be79" and IMAGENET1K_V1.sha256.startswith("7be5be79")
    assert IMAGENET1K_V1.accepts(IMAGENET1K_V1.sha256)
    assert not IMAGENET1K_V1.accepts("7be5be79" + "0" * 56)  # right prefix, wrong file
    assert hash_in_name("tiny-0123abcd.pth") == "0123abcd" and hash_in_name("weights.pth") is None


def test_url_override_is_for_another_copy(monkeypatch) -> None:
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    assert imagenet_weights() is IMAGENET1K_V1
    monkeypatch.setenv(URL_ENV_VAR, "http://mirror.example/alexnet-owt-7be5be79.pth")
    same_file = imagenet_weights()
    assert same_file.sha256 == IMAGENET1K_V1.sha256 and same_file.url.startswith("http://mirror")
    monkeypatch.setenv(URL_ENV_VAR, "http://127.0.0.1:1/alexnet-owt-0123abcd.pth")
    other = imagenet_weights()
    assert other.sha256 is None and other.accepts("0123abcd" + "f" * 56)
    assert other.categories == IMAGENET1K_V1.categories
    monkeypatch.setenv(URL_ENV_VAR, "http://127.0.0.1:1/weights.pth")
    with pytest.raises(ValueError, match="carries no"):
        _ = imagenet_weights().sha_prefix


def test_reading_the_facts_imports_no_torch() -> None:
    import subprocess

    code = ("import sys; from alexnet_viz.core.pretrained import IMAGENET1K_V1 as W; "
            "assert len(W.categories) == 1000 and W.transforms.crop == 224; "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
