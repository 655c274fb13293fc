"""What several test files share, in one place: the repository's folders, a page opened in AppTest and
the text it shows, a tiny network and the proof that a call left a model as it was, threads started at once.

Fixtures stay in conftest.py; pictures made to order in imagegen.py; a local HTTP server in fileserver.py.
"""
from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest
from torch import nn

from alexnet_viz.core.spec import ARTICLE, Spec

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
APP = "../streamlit_app.py"  # for AppTest.from_file, relative to this folder


# --- Pages under AppTest -------------------------------------------------------------------------

def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 300) -> AppTest:
    """A page as a visitor reaches it: the entry script with `query` in the address, then `page`; no exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def components(at: AppTest, name: str) -> list[dict]:
    """The data of the page's custom components called `name` (AppTest shows them only as protos)."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == name]


# What a page shows in words: captions, markdown, and the captions of its pictures and of its tile grids.
SHOWN = ("caption", "markdown", "image", "grid")


def texts(at: AppTest, kinds: Sequence[str] = SHOWN) -> str:
    """The page's text, one element a line, from the elements of `kinds` in that order: 'image' (the images'
    captions), 'grid' (the tile grids'), or any of AppTest's element lists ('caption', 'error', 'header'...)."""
    lines: list[str] = []
    for kind in kinds:
        if kind == "image":
            lines += [c for image in at.image for c in image.captions]
        elif kind == "grid":
            lines += [g["caption"] for g in components(at, "alexnet_viz.tile_grid")]
        else:
            lines += [e.value for e in getattr(at, kind)]
    return "\n".join(lines)


def png(width: int = 180, height: int = 120) -> bytes:
    """A smooth colour ramp as PNG bytes: an upload with something to see in every layer."""
    yy, xx = np.mgrid[0:height, 0:width]
    arr = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    """`data` given to the page's image uploader as the file `name`, the page rerun; no exception."""
    at.file_uploader(key="image_upload").set_value((name, data, mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- Pages in a real browser ---------------------------------------------------------------------

def no_error_on(page: Page) -> None:
    """The page shows neither a traceback nor a red error box."""
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


# --- Networks -------------------------------------------------------------------------------------

def tiny(base: Spec = ARTICLE, classes: int = 10,
         init: Literal["paper", "torchvision"] | None = "torchvision") -> Spec:
    """The variant's geometry with a few channels per layer: the same code paths, milliseconds per forward.

    `init` is torchvision's (PyTorch's defaults) unless asked; None keeps the variant's own. With so few
    inputs per unit both shrink the signal layer by layer: a test that needs logits that depend on the
    image re-initialises (test_explain's `kaiming`)."""
    widths = {"C1": 8, "C3": 16, "C5": 16, "C6": 16, "C7": 8, "F9": 32, "F10": 32, "F11": classes}
    layers = tuple(replace(l, out=widths[l.name]) if l.name in widths else l for l in base.layers)
    return replace(base, name=f"tiny-{base.name}", layers=layers, init=init or base.init)


def picture(size: int = 224) -> torch.Tensor:
    """A structured input: a bright square on a left/right colour split, so maps have somewhere to look."""
    x = torch.zeros(1, 3, size, size)
    x[:, 0, :, : size // 2] = -1.0
    x[:, 2, :, size // 2:] = 1.0
    x[:, :, size // 4: size // 2, size // 3: 2 * size // 3] = 2.0
    return x


def snapshot(model: nn.Module) -> dict:
    """All a call could change on a shared model: weights, train/eval modes, requires_grad, gradients."""
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "modes": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
    }


def assert_unchanged(model: nn.Module, before: dict) -> None:
    """The model is as `snapshot` found it, with no gradient and no hook left behind."""
    after = snapshot(model)
    assert before["state"].keys() == after["state"].keys()
    assert all(torch.equal(before["state"][k], after["state"][k]) for k in before["state"])
    assert after["modes"] == before["modes"]
    assert after["requires_grad"] == before["requires_grad"]
    assert all(g is None for g in after["grads"])
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert not m._backward_hooks and not getattr(m, "_backward_pre_hooks", {})


def assert_same_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """The model holds exactly these weights, name for name."""
    got = model.state_dict()
    assert got.keys() == state.keys()
    assert all(torch.equal(got[k], state[k]) for k in state)


class RunsCode:
    """Unpickling this calls os.mkdir(path): a stand-in for any code an attacker wants run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


# --- Threads --------------------------------------------------------------------------------------

def run_together(targets: Sequence[Callable[[], object]]) -> None:
    """Each target in its own thread, all started before any is waited for: callers racing for one thing."""
    threads = [threading.Thread(target=target) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
