"""The app never imports torchvision: it would add about 150 MiB to every server process.

The check runs in a fresh interpreter, because this test process has imported torchvision
already (other tests compare against it) and sys.modules cannot be un-imported.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import ROOT

LIBRARY = """
import io, sys
import numpy as np
from PIL import Image
from alexnet_viz.analysis import explain
from alexnet_viz.inputs import images
from alexnet_viz.figures import mosaic
from alexnet_viz.analysis import probe
from alexnet_viz.core import weights

buf = io.BytesIO()
Image.fromarray(np.random.default_rng(0).integers(0, 256, (150, 210, 3), dtype=np.uint8)).save(buf, "PNG")
image = images.load_image(buf.getvalue())
x = images.to_tensor(image)
assert images.from_tensor(x).size == images.network_view(image).size == (224, 224)
model = weights.load_model("article", "random")
maps = probe.capture(model, x, ["C1", "F11"])
assert mosaic.feature_grid(maps["C1"][0].numpy()).image.ndim == 3
pred = probe.predict(model, x, k=5)
assert len(probe.categories(1000)) == 1000 and pred.labels[0] in probe.categories(1000)
heat = explain.grad_cam(model, x, pred.indices[0])
assert heat.shape == (224, 224)
assert weights.default_weights().kind == "random" and weights.imagenet_path().name.endswith(".pth")
import ui.analysis, ui.image_input, ui.state  # the app's shared page code
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torchvision")
assert not loaded, loaded
"""

APP = f"""
from streamlit.testing.v1 import AppTest

assert "torchvision" not in sys.modules, "AppTest itself imported torchvision"
page = AppTest.from_file({str(ROOT / "app_pages" / "prediction.py")!r}, default_timeout=120).run()
assert not page.exception, [e.value for e in page.exception]
assert not page.error, [e.value for e in page.error]
app = AppTest.from_file({str(ROOT / "streamlit_app.py")!r}, default_timeout=120).run()
app.switch_page("app_pages/prediction.py").run()
assert not app.exception, [e.value for e in app.exception]
assert any("Grad-CAM" in m.value for m in app.markdown), "the prediction page did not draw"
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torchvision")
assert not loaded, loaded
print("ok")
"""


def _run_fresh(code: str) -> None:
    env = {**os.environ, "ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@pytest.mark.slow
def test_library_and_prediction_page_never_import_torchvision() -> None:
    """One fresh interpreter for both: the library's path first, then the app's pages on top of it."""
    _run_fresh(LIBRARY + APP)
