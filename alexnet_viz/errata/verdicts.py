"""A finding (claim, evidence, verdict, source) and the three ways the errata prints a list of them.

Kept apart from the checks so that the article's, the paper's and the left-out checks can each
live in their own module and still share one Finding.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

VERDICTS = ("correct", "wrong", "misleading", "left out")
BASES = ("computed", "paper", "literature")
"""computed: the evidence comes from the ledger, a real model or a small computation;
paper: the evidence is what the paper states (alexnet_viz/errata/paper.py), with its section;
literature: the evidence is another publication or a library's own documentation, named in the source."""
FORMATS = ("table", "json", "markdown")
SEVERITY = ("wrong", "misleading", "left out", "correct")
"""The order a reader needs them in: what is false first, what is true last."""


@dataclass(frozen=True)
class Source:
    """Where a finding comes from: the article's sentence, the paper's section, cuda-convnet's code, other works."""

    article: str  # the article's sentence, verbatim (for a left-out fact: the sentence where it belongs)
    paper: str = ""  # e.g. "Sec. 3.2"; empty where the paper has nothing to say (the article's own examples)
    code: str = ""  # file and line in akrizhevsky/cuda-convnet2, when the evidence is its code
    other: str = ""  # another publication or library (author, year, title or file), when the evidence needs one

    def text(self) -> str:
        """One line: article sentence · paper section · code."""
        parts = [f"article: “{self.article}”"]
        parts.append(f"paper: {self.paper}" if self.paper else "paper: not in the paper (the article's own)")
        if self.code:
            parts.append(f"code: {self.code}")
        if self.other:
            parts.append(f"also: {self.other}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One claim: where it is, what it says, the evidence, the verdict and the sources."""

    key: str
    topic: str
    claim: str
    evidence: str
    verdict: str  # one of VERDICTS
    source: Source
    basis: str = "computed"  # one of BASES

    def as_dict(self) -> dict:
        return asdict(self)


def counts(items: tuple[Finding, ...]) -> dict[str, int]:
    """How many findings have each verdict."""
    return {v: sum(f.verdict == v for f in items) for v in VERDICTS}


def by_severity(items: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """Findings in SEVERITY order, reading order kept within each verdict."""
    return sorted(items, key=lambda f: SEVERITY.index(f.verdict))


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(items: tuple[Finding, ...], fmt: str) -> str:
    """Findings as an aligned text table, JSON or Markdown."""
    if fmt == "json":
        return json.dumps({"counts": counts(items), "findings": [f.as_dict() for f in items]}, indent=2) + "\n"
    if fmt == "markdown":
        lines = ["| verdict | topic | the article says | evidence | basis | source |", "|---|---|---|---|---|---|"]
        lines += [f"| {f.verdict} | {_esc(f.topic)} | {_esc(f.claim)} | {_esc(f.evidence)} | {f.basis} | "
                  f"{_esc(f.source.text())} |" for f in items]
        return "\n".join(lines) + "\n"
    blocks = [f"[{f.verdict.upper()}] {f.topic}\n  says:     {f.claim}\n  {f.basis + ':':<9} {f.evidence}\n"
              f"  source:   {f.source.text()}" for f in items]
    tally = ", ".join(f"{n} {v}" for v, n in counts(items).items())
    return f"The article checked: {len(items)} findings ({tally})\n\n" + "\n\n".join(blocks) + "\n"
