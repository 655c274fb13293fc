"""What a fresh server's first visitor no longer pays for (issue 23): imports a page does not need,
figures rebuilt on every rerun, and the work the server does before its first visitor arrives."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


def test_a_model_on_the_meta_device_is_built_without_torch_dynamo():
    """Drawing initial values for tensors that hold none imported torch._dynamo: seconds of a page's first run."""
    code = ("import sys, torch\nfrom alexnet_viz.core.model import AlexNet\nfrom alexnet_viz.core.spec import ARTICLE\n"
            "with torch.device('meta'):\n    m = AlexNet(ARTICLE)\n"
            "print('torch._dynamo' in sys.modules, m.layer('C1').weight.is_meta)")
    assert _modules_after(code) == "False True"


def test_the_filters_page_library_imports_no_captum():
    """ablate (the filters and unit pages) needs the twin, not captum's attribution methods (about a second)."""
    code = "import sys\nimport alexnet_viz.analysis.ablate\nprint('captum' in sys.modules)"
    assert _modules_after(code) == "False"


def test_the_two_towers_figure_is_the_same_figure_built_in_one_go():
    from alexnet_viz.core.bookkeeping import ledger
    from alexnet_viz.core.spec import PAPER
    from alexnet_viz.figures.ideas import tower_strip

    layout = tower_strip(ledger(PAPER)).layout
    rows = ledger(PAPER).rows
    assert len(layout.shapes) == sum(1 if r.name == "F11" else 2 for r in rows) + 1  # F11 is one block
    assert layout.shapes[-1].fillcolor and layout.shapes[-1].x0 == -0.32  # the input, drawn last as before
    assert [a.text for a in layout.annotations][-3:] == ["input", "GPU 1", "GPU 2"]


def test_a_heatmap_is_built_once_per_input_and_shared():
    from ui.charts import FrozenFigure, heatmap

    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    first = heatmap(values, title="t", diverging=True, height=100)
    assert isinstance(first, FrozenFigure)
    assert heatmap(values.copy(), title="t", diverging=True, height=100) is first
    assert heatmap(values + 1, title="t", diverging=True, height=100) is not first


def test_the_filters_kernel_close_up_is_built_once_per_kernel_and_shared():
    """/filters rebuilt its kernel figure (plotly subplots) on every rerun: ~60 % of a warm rerun."""
    from alexnet_viz.figures.activations import kernel_heatmap as build
    from ui.charts import FrozenFigure, kernel_heatmap

    planes = {f"{c} input": np.full((3, 3), i, dtype=np.float32) for i, c in enumerate("RGB")}
    first = kernel_heatmap(planes)
    assert isinstance(first, FrozenFigure) and first.to_dict() == build(planes).to_dict()
    assert kernel_heatmap({k: v.copy() for k, v in planes.items()}) is first
    assert kernel_heatmap({"input channel 0": planes["R input"]}) is not first


def test_rows_and_columns_become_arrow_tables_without_pandas():
    from ui.tables import arrow_table

    rows = arrow_table([{"layer": "C1", "side": 55}, {"layer": "C3", "side": 27}])
    assert rows.column_names == ["layer", "side"] and rows.column("side").to_pylist() == [55, 27]
    cols = arrow_table({"unit": [3, 7], "value": np.array([0.5, 0.25], dtype=np.float32)})
    assert cols.num_rows == 2 and cols.column("value").to_pylist() == [0.5, 0.25]
