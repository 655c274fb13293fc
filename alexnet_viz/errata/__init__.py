"""Every claim of the article, with evidence, a verdict and its sources, in the article's reading order.

The checks live in four modules: findings_article (the article's own numbers, recomputed),
findings_paper (its claims about AlexNet against the paper, the PAPER spec and Krizhevsky's code),
findings_general (its general sentences about CNNs, its pointers and its reference) and
findings_left_out (what it leaves out, and the two-GPU claim against measured memory). The
"article checked" page and `python -m alexnet_viz errata` print this same list.
"""
from __future__ import annotations

from functools import lru_cache

from alexnet_viz.errata.verdicts import BASES, FORMATS, SEVERITY, VERDICTS, Finding, Source, by_severity, render
from alexnet_viz.errata.verdicts import counts as _counts


@lru_cache(maxsize=1)
def findings() -> tuple[Finding, ...]:
    """All findings: overview, basics, walkthrough, analysis, summary, then what is left out.

    The checks are imported here, not at the top: some measure a real network (torch), and the
    command line reads FORMATS from this package for every command, `summary` included.
    """
    from alexnet_viz.errata import findings_article as art
    from alexnet_viz.errata import findings_general as gen
    from alexnet_viz.errata import findings_left_out as out
    from alexnet_viz.errata import findings_paper as pap

    return (
        pap.competition(), pap.multi_gpu(), out.neurons(),
        *gen.basics(), art.formula_finding(), *art.figures(), art.kernel_channels(), *gen.subsampling(),
        art.pool_formula(), gen.fc_ununique(), pap.fc_hidden(),
        art.input_size(), pap.c1_padding(), *art.shape_findings(), art.consistency(), art.total_claim(),
        art.missing_c4(), pap.pool_relu(), art.zero_padded_pools(),
        pap.training_data(), *pap.training(), pap.training_left_out(), out.dataset(), out.two_gpus(),
        *out.grouping(), pap.relu_layers(), out.relu_speed(), *pap.summary_claims(), out.dropout_cost(),
        out.lrn(), out.overlapping_pooling(), *out.augmentation(), gen.prebuilt(), gen.reference(),
    )


def counts(items: tuple[Finding, ...] | None = None) -> dict[str, int]:
    """How many findings have each verdict (all findings by default)."""
    return _counts(findings() if items is None else items)


__all__ = ["BASES", "FORMATS", "SEVERITY", "VERDICTS", "Finding", "Source", "by_severity", "counts", "findings",
           "render"]
