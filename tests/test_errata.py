"""The errata: each claim's verdict follows from computed evidence, and the CLI prints the same list."""
import json
from dataclasses import replace

import pytest

from alexnet_viz import article, errata
from alexnet_viz.cli import main
from alexnet_viz.formatting import fmt_bytes
from alexnet_viz.bookkeeping import ledger
from alexnet_viz.spec import ARTICLE


@pytest.fixture(scope="module")
def found():
    return {f.key: f for f in errata.findings()}


def test_ceiling_formula_is_wrong_at_c1(found):
    f = found["size-formula"]
    assert f.verdict == "wrong"
    assert "C1: 55.25 → floor 55, ceiling formula 56" in f.evidence


def test_missing_c4(found):
    f = found["missing-C4"]
    assert f.verdict == "wrong" and "C4" in f.claim and "(it is S4)" in f.evidence


def test_every_stated_shape_param_and_total_checks_out(found):
    for layer in article.LAYERS:
        assert found[f"shape-{layer.name}"].verdict == "correct"
        if layer.params is not None:
            assert found[f"params-{layer.name}"].verdict == "correct"
        if layer.running_total is not None:
            assert found[f"total-{layer.name}"].verdict == "correct"
    assert found["total-62M"].verdict == "correct"
    assert f"{ledger(ARTICLE).total_params:,}" in found["total-62M"].evidence
    assert found["consistency"].verdict == "correct"


def test_a_wrong_article_number_turns_the_verdict(monkeypatch):
    c1 = article.layer("C1")
    monkeypatch.setattr(article, "LAYERS", (replace(c1, params=c1.params + 1), *article.LAYERS[1:]))
    by_key = {f.key: f for f in errata._shape_findings()}
    assert by_key["params-C1"].verdict == "wrong"
    assert errata._consistency().verdict == "wrong"


def test_relu_after_pooling_changes_nothing(found):
    changed, checked, zeros, lowest = errata._pool_relu_check()
    assert changed == 0 and checked > 0 and zeros > 0 and lowest == 0.0
    assert found["pool-relu"].verdict == "misleading"


def test_two_gpu_memory_estimate(found):
    mem = errata.training_memory(ARTICLE)
    assert mem["weights"] == ledger(ARTICLE).total_params * 4
    assert mem["total"] == 3 * mem["weights"] + 2 * mem["activations"]
    assert mem["total"] < errata.GTX580_BYTES  # a floor only: the paper needed more than this
    assert fmt_bytes(mem["weights"]) in found["two-gpus"].evidence


def test_other_claims(found):
    assert found["figure2"].verdict == "wrong" and "4×4×1" in found["figure2"].evidence
    assert found["figure3"].verdict == "correct"
    assert found["zero-padded-pools"].verdict == "misleading" and "28x28x96" in found["zero-padded-pools"].evidence
    assert found["kernel-channels"].verdict == "misleading" and "48 channels" in found["kernel-channels"].evidence
    assert found["grouping"].verdict == "left out" and found["lrn"].verdict == "left out"
    assert "54.25 → 54" in found["input-224"].evidence
    assert "8 have weights" in found["layer-count"].evidence


def test_counts_and_verdicts_are_known():
    items = errata.findings()
    assert all(f.verdict in errata.VERDICTS for f in items)
    made = tuple(errata.Finding(f"k{i}", "t", "c", "e", v) for i, v in enumerate(["wrong", "left out", "wrong"]))
    assert errata.counts(made) == {"correct": 0, "wrong": 2, "misleading": 0, "left out": 1}
    assert len({f.key for f in items}) == len(items)


def test_cli_table(capsys):
    assert main(["errata"]) == 0
    out = capsys.readouterr().out
    assert "ceiling" in out and "C4" in out and "[WRONG] output-size formula" in out


def test_cli_json_and_markdown(capsys):
    assert main(["errata", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["findings"]) == len(errata.findings()) and data["counts"] == errata.counts()
    assert main(["errata", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| verdict |") and md.count("\n") == len(errata.findings()) + 2
