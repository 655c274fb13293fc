"""The errata: each claim's verdict follows from its evidence, each names its sources, and the CLI prints the list."""
import inspect
import json
from dataclasses import replace

import pytest
from torch import nn

from alexnet_viz import errata
from alexnet_viz.cli import main
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import ARTICLE, PAPER, VARIANTS
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
    for key in ("pool-kernels", "conv-kernels", "dropout", "classes", "c6-same"):
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
    assert found["relu-layers"].verdict == "correct" and "F9, F10" in found["relu-layers"].evidence


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


# --- issue 19, §1: each of these failed on the code before it -----------------------------------------

def test_grouping_names_c5_as_the_conv_that_reads_both_gpus_as_the_tower_plan_does(found):
    from alexnet_viz.ideas.stack import tower_plan

    f = found["grouping"]
    across = {r.name for r in tower_plan(PAPER) if r.link in ("across", "one")}
    assert across == {"C5", "F9", "F10", "F11"}
    assert "C3's input" not in f.evidence and "Only C5 (the paper's third convolutional layer)" in f.evidence
    assert "F9, F10, F11 read both GPUs' maps" in f.evidence and "[conv3a] inputs=pool2a,pool2b" in f.source.code


def test_relu_for_convolutions_is_correct_because_the_walkthrough_gives_f9_and_f10_theirs(found, monkeypatch):
    f = found["relu-layers"]
    assert f.verdict == "correct" and article.QUOTES["f9"] in f.evidence
    assert [a.name for a in article.LAYERS if a.name.startswith("F") and a.relu_after] == ["F9", "F10"]
    # if the article had not given F10 its ReLU, the verdict would turn
    f10 = article.layer("F10")
    monkeypatch.setattr(article, "LAYERS", tuple(replace(a, relu_after=False) if a is f10 else a
                                                 for a in article.LAYERS))
    assert errata_paper.relu_layers().verdict == "wrong"


def test_layer_count_is_checked_against_the_papers_eight_not_our_spec(found):
    f = found["layer-count"]
    assert f.basis == "paper" and f.source.paper == "Sec. 3" and f.verdict == "misleading"
    assert paper.PASSAGES["learned_layers"].text in f.evidence
    assert "3 max-pooling layers (S2, S4, S8)" in f.evidence and "gives 13" in f.evidence
    assert "numbered layers" not in f.evidence  # no longer our own spec's count


def test_15_3_percent_says_seven_cnns_and_one_cnns_18_2(found):
    f = found["ilsvrc"]
    assert "15.3 % is the average of 7 CNNs, 2 of them" in f.evidence and "Fall 2011" in f.evidence
    assert "18.2 % top-5 on the 2012 validation set" in f.evidence and "Table 2" in f.source.paper
    for item in errata.findings():  # wherever 15.3 appears, the seven CNNs are named beside it
        if "15.3" in item.evidence:
            assert "7 CNNs" in item.evidence, item.key


def test_lrn_finding_states_both_the_printed_alpha_and_the_codes_alpha_over_n(found):
    f = found["lrn"]
    assert "α = 0.0001" in f.evidence and "α/n = 2e-05" in f.evidence
    assert "alpha=0.0001" in f.evidence and "alpha=0.0005" in f.evidence and "uses the code's" in f.evidence
    assert "layer.py:1331" in f.source.code and "scale=0.0001" in f.source.code and "channels=48" in f.source.code


def test_pca_noise_is_written_with_its_standard_deviation_everywhere():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("alexnet_viz/**/*.py"), *root.glob("app_pages/*.py"), *root.glob("ui/*.py"),
             *root.glob("docs/*.md"), root / "README.md"]
    as_variance = re.compile(r"N\(0, ?0\.1\)")
    assert not [str(p.relative_to(root)) for p in files if as_variance.search(p.read_text(encoding="utf-8"))]
    from alexnet_viz.errata.claims import CLAIMS

    assert "standard deviation 0.1" in CLAIMS["pca"].text and "0.1²" in CLAIMS["pca"].text


def test_pool_size_rule_is_sourced_to_the_code_and_names_caffe(found):
    f = found["pool-size-formula"]
    assert f.source.paper == ""  # Sec. 3.4 never discusses output sizes
    assert "PoolLayerParser" in f.source.code and "LocalLayerParser" in f.source.code
    assert "pooling_layer.cpp" in f.source.other
    assert "Caffe rounds convolutions down and pooling up" in f.evidence


# --- issue 19, §3: the article's sentences nobody had judged ------------------------------------------

NEW_FINDINGS = {"multi-gpu": "correct", "biology": "misleading", "layer-types": "misleading", "stride": "correct",
                "dot-product": "misleading", "position": "misleading", "pool-types": "correct",
                "pool-params": "correct", "fc-ununique": "correct", "c1-padding": "correct",
                "training-data": "left out", "prebuilt": "misleading", "reference": "wrong"}


def test_the_unjudged_sentences_each_have_a_finding_with_its_source(found):
    assert len(errata.findings()) >= 72
    for key, verdict in NEW_FINDINGS.items():
        f = found[key]
        assert f.verdict == verdict, key
        assert f.source.article in article.QUOTES.values() or f.source.article == article.layer("C1").quote, key
        assert f.source.paper or f.source.code or f.source.other or f.basis == "computed", key


def test_the_new_findings_evidence_is_computed_where_it_can_be(found):
    assert "218×218 output, 47,524 placements" in found["stride"].evidence
    assert "27 products (3 channels × 3 × 3)" in found["dot-product"].evidence
    assert "moves by exactly one cell" in found["position"].evidence
    assert "Keras Applications has no AlexNet" in found["prebuilt"].evidence
    assert f"{ledger(VARIANTS['torchvision']).total_params:,}" in found["prebuilt"].evidence
    padding = found["c1-padding"]
    assert "padding=0" in padding.source.code and "padding 2 (torchvision's too" in padding.evidence
    assert "\"S. Ilya\" swaps his given name and surname" in found["reference"].evidence
    assert "Fukushima" in found["biology"].source.other and found["biology"].basis == "literature"
    assert "Fall 2011" in found["training-data"].evidence


def test_json_carries_every_source_field(capsys):
    assert main(["errata", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["findings"]) >= 72
    assert all(set(f["source"]) == {"article", "paper", "code", "other"} for f in data["findings"])
    assert any(f["source"]["other"] for f in data["findings"])


def test_by_severity_puts_wrong_first_and_keeps_reading_order():
    ordered = errata.by_severity(errata.findings())
    ranks = [errata.SEVERITY.index(f.verdict) for f in ordered]
    assert ranks == sorted(ranks) and ordered[0].verdict == "wrong" and ordered[-1].verdict == "correct"
    wrong = [f.key for f in errata.findings() if f.verdict == "wrong"]
    assert [f.key for f in ordered[:len(wrong)]] == wrong


# --- the re-audit of issue 19: what an expert would not sign -------------------------------------------

OVERCLAIMS = ("which produced those results", "whose results the paper reports computed",
              "The paper's results came", "(α/n): the results")


def test_no_text_says_the_released_code_produced_the_papers_results():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("alexnet_viz/**/*.py"), *root.glob("app_pages/*.py"), *root.glob("ui/*.py"),
             *root.glob("docs/*.md"), root / "README.md"]
    said = [(str(p.relative_to(root)), o) for p in files for o in OVERCLAIMS if o in p.read_text(encoding="utf-8")]
    assert not said


def test_lrn_finding_says_released_2014_code_and_where_its_config_departs(found):
    f = found["lrn"]
    assert "Krizhevsky's released code (cuda-convnet2, 2014; also the original cuda-convnet)" in f.evidence
    assert "sets scale 0.0001, so c = α/n = 2e-05" in f.evidence and "never published" in f.evidence
    assert "LRN before C1's ReLU" in f.evidence and "extra spatial normalisation" in f.evidence
    assert ":54 ([pool1a] neuron=relu" in f.source.code and ":107-117 ([cnorm2a] type=rnorm" in f.source.code
    assert "k fixed at 1" in f.source.other


def test_seeded_examples_are_not_called_the_articles_figures(found):
    dot, pools = found["dot-product"].evidence, found["pool-types"].evidence
    assert "Figure 2's example" not in dot and "Figure 3's example" not in pools
    assert "a seeded example of Figure 2's shape (6×6×3 input, 3×3×3 kernel, bias 0.5)" in dot
    assert "a seeded example of Figure 3's shape (6×6×3 input, 2×2 window, stride 2)" in pools


def test_only_one_pre_trained_cnn_is_said_to_have_a_sixth_layer(found):
    f = found["ilsvrc"]
    assert "with a sixth convolutional layer and pre-trained" not in f.evidence
    assert "2 of them pre-trained on the Fall 2011 release" in f.evidence
    assert "the paper describes one such CNN, with an extra sixth convolutional layer" in f.evidence
    assert "Training one CNN, with an extra sixth convolutional layer" in paper.PASSAGES["ensemble"].text


def test_biology_says_the_neocognitron_was_proposed_as_a_model_of_the_cortex(found):
    f = found["biology"]
    assert f.verdict == "misleading" and "was proposed as a model of the visual cortex" in f.evidence
    assert "similar to the hierarchy model of the visual nervous system proposed by Hubel and Wiesel" in f.evidence
    assert "the cat's and the monkey's cortex, not the human's" in f.evidence
    assert "AlexNet's direct line" in f.evidence and "monkey striate cortex" in f.source.other


def test_c1_padding_is_correct_as_the_paper_never_states_it(found):
    f = found["c1-padding"]
    assert f.verdict == "correct" and "the paper never states C1's padding" in f.evidence
    assert f.source.paper == "Sec. 3.5" and paper.PASSAGES["c1"].text in f.evidence
    assert "Krizhevsky's released config uses padding 0 with a ceiling rule" in f.evidence
    assert "unpadded" not in f.evidence


def test_c6_same_gives_both_networks_parameter_pairs_from_the_ledger(found):
    f = found["c6-same"]
    art, pap = ledger(ARTICLE), ledger(PAPER)
    assert f"C5 {art.row('C5').params:,} vs C6 {art.row('C6').params:,}" in f.evidence  # the quoted claim's
    assert f"C5 {pap.row('C5').params:,} vs C6 {pap.row('C6').params:,}" in f.evidence
    assert art.row("C6").params != art.row("C5").params


def test_two_gpu_gain_quotes_the_footnote_on_the_one_gpu_net(found):
    f = found["two-gpu-gain"]
    assert "same number of kernels as the two-GPU net in the final convolutional layer" in f.evidence
    assert "nor the fully-connected layers which follow" in f.evidence and "footnote" in f.source.paper
    from alexnet_viz.errata.claims import CLAIMS

    assert "except the last" in CLAIMS["gpus"].text


def test_the_second_re_audit_of_issue_19(found) -> None:
    """What the second independent re-audit would not sign: C1's padding is the released config's (the paper
    states none), the ReLU sentence literally covers F11 (the code shows F11 has none), LRN's PyTorch call has k."""
    for key in ("input-224", "size-formula"):
        assert "padding 0 in the paper" not in found[key].evidence
        assert "released config" in found[key].evidence
    relu = found["relu-layers"]
    assert "literally" in relu.evidence and "[fc1000]" in relu.source.code
    assert "beta=0.75, k=2)" in found["lrn"].evidence
