"""Sentences the app states about AlexNet: the torchvision variant's lineage, pooling's arithmetic, F9's field."""
from alexnet_viz.core.spec import ARTICLE, PAPER, TORCHVISION
from alexnet_viz.errata.derive import derive


def test_torchvision_variant_is_based_on_one_weird_trick_not_the_same():
    assert "based on" in TORCHVISION.title.lower()
    text = TORCHVISION.description
    assert "64/192/384/256/256" in text and "64/192/384/384/256" in text and "layers-imagenet-1gpu.cfg" in text
    widths = [layer.out for layer in TORCHVISION.layers if layer.kind == "conv"]
    assert "/".join(map(str, widths)) == "64/192/384/256/256"  # the description matches the spec it describes
    assert TORCHVISION.init_label.endswith("PyTorch's defaults")


def test_average_pooling_sums_and_divides():
    step = next(s for s in derive(ARTICLE.with_layer("S2", kind="avgpool"), "S2").steps if s.label == "multiply-adds")
    assert "comparisons" not in step.formula + step.working
    assert "divide" in step.formula and "8 adds" in step.working and "divided by 9" in step.working
    max_step = next(s for s in derive(ARTICLE, "S2").steps if s.label == "multiply-adds")
    assert "comparisons" in max_step.formula


def test_a_receptive_field_wider_than_the_input_says_so():
    f9 = next(s for s in derive(ARTICLE, "F9").steps if s.label == "receptive field")
    assert f9.result.startswith("355×355") and "wider than the 224×224 input" in f9.result
    assert "228×228 with C1's padding" in f9.result and "whole image" in f9.result
    c3 = next(s for s in derive(ARTICLE, "C3").steps if s.label == "receptive field")
    assert c3.result == f"{c3.result.split('×')[0]}×{c3.result.split('×')[0]} input pixels"  # no note when it fits


def test_the_paper_variant_says_where_it_follows_krizhevskys_code_and_where_the_paper():
    text = PAPER.description
    assert "each GPU normalising only its own maps" in text and "alpha/n" in text
    assert "layers-imagenet-2gpu-model.cfg" in text and "follows the paper" in text
    assert "only subtracted the mean image (Sec. 2)" in text
    lrn = PAPER.layer("C1").lrn
    assert lrn is not None and lrn.rule == "code" and lrn.groups == 2
