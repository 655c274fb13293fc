"""The errata: each claim's verdict follows from its evidence, each names its sources, and the CLI prints the list."""
import inspect
import json
from dataclasses import replace

import pytest
from torch import nn

from alexnet_viz import errata
from alexnet_viz.cli import main
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import ARTICLE, PAPER
from alexnet_viz.errata import article, paper
from alexnet_viz.errata import findings_article as errata_article
from alexnet_viz.errata import findings_paper as errata_paper


@pytest.fixture(scope="module")
def found():
    return {f.key: f for f in errata.findings()}


def test_ceiling_formula_is_wrong_at_c1_but_is_cuda_convnets_own_rule(found):
    f = found["size-formula"]
    assert f.verdict == "wrong"
    assert "C1: 55.25 → floor 55, ceiling formula 56" in f.evidence
    assert "cuda-convnet" in f.evidence and "layer.py:1097" in f.source.code
    assert "no ceil_mode" in f.evidence
    assert "ceil_mode" not in inspect.signature(nn.Conv2d).parameters  # the evidence's claim about PyTorch
    assert "ceil_mode" in inspect.signature(nn.MaxPool2d).parameters


def test_input_224_shows_both_rounding_rules(found):
    f = found["input-224"]
    assert "only" not in f.evidence  # "only 227 gives 55" was false even under the floor rule
    assert errata_article.sizes_giving(55, PAPER, "floor") == [227, 228, 229, 230]
    assert errata_article.sizes_giving(55, PAPER, "ceiling") == [224, 225, 226, 227]
    assert "inputs 227–230" in f.evidence and "224–227" in f.evidence
    assert "224 → 55 → 27 → 13 → 6" in f.evidence and "224 → 54 → 26 → 12 → 5" in f.evidence
    assert f.verdict == "correct" and "layers-imagenet-1gpu.cfg" in f.source.code


def test_the_paper_variants_description_states_both_rules():
    text = PAPER.description
    assert "needs a 227x227" not in text
    assert "ceiling" in text and "224" in text and "227 to 230" in text


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
    assert found["consistency"].verdict == "correct"


def test_62_million_is_misleading_about_alexnet(found):
    f = found["total-62M"]
    assert f.verdict == "misleading"
    assert ledger(PAPER).total_params == 60_965_224 and "60,965,224" in f.evidence
    assert f"{ledger(ARTICLE).total_params:,}" in f.evidence and "60 million" in f.evidence


def test_a_wrong_article_number_turns_the_verdict(monkeypatch):
    c1 = article.layer("C1")
    monkeypatch.setattr(article, "LAYERS", (replace(c1, params=c1.params + 1), *article.LAYERS[1:]))
    by_key = {f.key: f for f in errata_article.shape_findings()}
    assert by_key["params-C1"].verdict == "wrong"
    assert errata_article.consistency().verdict == "wrong"


def test_relu_after_pooling_changes_nothing_with_zeroed_biases(found):
    changed, checked, zeros, lowest = errata_paper.pool_relu_check()
    assert changed == 0 and checked > 0 and zeros > 0 and lowest == 0.0
    f = found["pool-relu"]
    assert f.verdict == "misleading" and "every bias set to 0" in f.evidence


def test_summary_claims_are_checked_against_the_paper_not_the_article(monkeypatch, found):
    for key in ("pool-kernels", "conv-kernels", "layer-count", "dropout", "classes", "c6-same"):
        assert found[key].verdict == "correct" and found[key].source.paper, key
    # a paper network without dropout in F10 must turn the verdict, whatever the article spec says
    monkeypatch.setattr(errata_paper, "PAPER", PAPER.with_layer("F10", dropout=0.0))
    by_key = {f.key: f for f in errata_paper.summary_claims()}
    assert by_key["dropout"].verdict == "wrong"
    assert "groups=2" in found["c6-same"].evidence


def test_kernel_channels_is_correct_with_the_groups_caveat(found):
    f = found["kernel-channels"]
    assert f.verdict == "correct" and "48 channels" in f.evidence and "caveat" in f.evidence


def test_two_gpu_claim_follows_from_measured_memory(found):
    f = found["two-gpus"]
    assert f.verdict == "misleading"
    assert "measured on a real model" in f.evidence and "float32" in f.evidence
    assert paper.PASSAGES["two_gpus"].text in f.evidence and f.source.paper == "Sec. 3.2"
    assert "2.21 GiB" not in f.evidence  # the old hand count, every output twice
    assert "floor" not in f.evidence and "estimates the peak" in f.evidence  # a real step peaks a little lower


def test_paper_claims(found):
    assert found["ilsvrc"].verdict == "misleading" and "ILSVRC-2012" in found["ilsvrc"].evidence
    assert "15.3" in found["ilsvrc"].evidence and "37.5" in found["ilsvrc"].evidence
    assert found["fc-hidden"].verdict == "wrong"
    for key in ("batch", "momentum", "weight-decay", "init-std"):
        assert found[f"training-{key}"].verdict == "correct" and found[f"training-{key}"].basis == "paper"
    left = found["training-left-out"].evidence
    assert "0.01" in left and "three times" in left and "90" in left and "5–6 days" in left
    assert "at 1 in C3, C6, C7, F9, F10" in left and "at 0 in C1, C5, F11" in left
    assert found["relu-layers"].verdict == "left out" and "F9, F10" in found["relu-layers"].evidence


def test_left_out_findings_name_the_papers_section(found):
    expected = {"relu-speed": "Fig. 1", "lrn": "Sec. 3.3", "overlap": "Sec. 3.4", "augmentation": "Sec. 4.1",
                "ten-crops": "Sec. 4.1", "dropout-cost": "Sec. 4.2", "dataset": "Sec. 2", "neurons": "Sec. 3.5",
                "two-gpu-gain": "Sec. 3.2", "grouping": "Sec. 3.2"}
    for key, section in expected.items():
        assert found[key].verdict == "left out" and section in found[key].source.paper, key
    assert "1.4 % top-1 and 1.2 % top-5" in found["lrn"].evidence
    assert "0.4 % top-1 and 0.3 % top-5" in found["overlap"].evidence
    assert "= 2,048" in found["augmentation"].evidence
    assert "659,272" in found["neurons"].evidence


def test_every_finding_names_its_sources():
    quoted = set(article.QUOTES.values()) | {a.quote for a in article.LAYERS} | {article.TOTAL_PARAMS_QUOTE}
    for f in errata.findings():
        assert f.source.article, f.key
        assert f.basis in errata.BASES
        if f.basis == "paper":
            assert f.source.paper, f.key
        assert (f.source.article in quoted or f.source.article.startswith("Figure")
                or f.source.article in (article.FIGURE2.quote, article.FIGURE3.quote)), f.key


def test_counts_and_verdicts_are_known():
    items = errata.findings()
    assert all(f.verdict in errata.VERDICTS for f in items)
    src = errata.Source("s")
    made = tuple(errata.Finding(f"k{i}", "t", "c", "e", v, src) for i, v in enumerate(["wrong", "left out", "wrong"]))
    assert errata.counts(made) == {"correct": 0, "wrong": 2, "misleading": 0, "left out": 1}
    assert len({f.key for f in items}) == len(items)


def test_cli_table(capsys):
    assert main(["errata"]) == 0
    out = capsys.readouterr().out
    assert "ceiling" in out and "C4" in out and "[WRONG] output-size formula" in out
    assert "source:   article: “" in out and "paper: Sec. 3.2" in out


def test_cli_json_and_markdown(capsys):
    assert main(["errata", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["findings"]) == len(errata.findings()) and data["counts"] == errata.counts()
    assert {"article", "paper", "code"} <= set(data["findings"][0]["source"])
    assert main(["errata", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| verdict |") and md.count("\n") == len(errata.findings()) + 2
    assert "| source |" in md.splitlines()[0]


def test_rounding_table_shows_both_rules_side_by_side():
    rows = {(r["input"], r["rounding"], r["network"]): r for r in errata_article.rounding_table()}
    ceil224 = rows[(224, "ceiling (cuda-convnet)", "C1 padding 0 (paper)")]
    floor224 = rows[(224, "floor (PyTorch)", "C1 padding 0 (paper)")]
    floor227 = rows[(227, "floor (PyTorch)", "C1 padding 0 (paper)")]
    assert [ceil224[n] for n in ("C1", "S2", "S4", "S8")] == [55, 27, 13, 6]  # the paper's 224, no padding
    assert [floor224[n] for n in ("C1", "S2", "S4", "S8")] == [54, 26, 12, 5]
    assert all(floor227[n] == ceil224[n] for n in ("C1", "S2", "C3", "S4", "C5", "C6", "C7", "S8"))
    assert rows[(224, "floor (PyTorch)", "C1 padding 2 (article)")]["C1"] == 55
    assert not any("Caffe" in r for r in errata_article.RULES.values())  # Caffe's pooling rounds up
