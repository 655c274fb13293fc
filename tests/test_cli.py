"""The summary CLI: every format and a clean failure, in-process through cli.main (what the console
script calls), and once as a user runs it, in a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import NamedTuple

import pytest

from alexnet_viz.cli import main
from tests.test_ledger import ARTICLE_TABLE


class Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture) -> Callable[..., Done]:
    def call(*args: str) -> Done:
        code = main(list(args))
        out = capsys.readouterr()
        return Done(code, out.out, out.err)
    return call


def test_article_json_reproduces_the_article(run) -> None:
    out = run("summary", "--variant", "article", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["variant"] == "article" and doc["input_size"] == 224
    assert doc["total_params"] == 62_378_344 and doc["total_macs"] == 1_135_915_368
    for layer in doc["layers"]:
        shape, params, running = ARTICLE_TABLE[layer["name"]]
        out_shape = layer["output_shape"]
        hwc = (out_shape[1], out_shape[2], out_shape[0]) if len(out_shape) == 3 else tuple(out_shape)
        assert (hwc, layer["params"], layer["cumulative_params"]) == (shape, params, running)
        assert {"kind", "macs"} <= layer.keys()


@pytest.mark.parametrize("variant,total", [("torchvision", 61_100_840), ("paper", 60_965_224)])
def test_other_variant_totals(run, variant: str, total: int) -> None:
    doc = json.loads(run("summary", "--variant", variant, "--format", "json").stdout)
    assert doc["total_params"] == total
    assert doc["total_macs"] == sum(layer["macs"] for layer in doc["layers"])


def test_table_is_aligned_with_separators_and_totals(run) -> None:
    out = run("summary").stdout
    lines = out.splitlines()
    assert "62,378,344" in out and "1,135,915,368" in out and lines[-1].startswith("total")
    header = lines[1]
    c1 = next(line for line in lines if line.startswith("C1 "))
    # right-aligned numeric columns end where their header ends
    assert c1.index("34,944") + len("34,944") == header.index("params") + len("params")


@pytest.mark.parametrize("fmt,marker", [("csv", "C1,conv1,features.0,conv,224x224x3,55x55x96"),
                                        ("markdown", "| C1 | conv1 | features.0 | conv |")])
def test_csv_and_markdown(run, fmt: str, marker: str) -> None:
    assert marker in run("summary", "--format", fmt).stdout


def test_impossible_input_size_exits_with_one_line_naming_a_layer(run) -> None:
    out = run("summary", "--input-size", "40")
    assert out.returncode != 0 and out.stdout == ""
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "S8" in out.stderr and "63x63" in out.stderr


@pytest.mark.slow
def test_as_a_user_runs_it() -> None:
    """`python -m alexnet_viz` in a fresh interpreter: the numbers on stdout, a failure as one line and exit 2."""
    def sub(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "alexnet_viz", *args], capture_output=True, text=True,
                              timeout=120)

    ok = sub("summary", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["total_params"] == 62_378_344
    bad = sub("summary", "--input-size", "40")
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "63x63" in bad.stderr
