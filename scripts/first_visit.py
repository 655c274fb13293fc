"""First visits to a freshly started server, page by page, against a stock Streamlit app's first visit.

The measuring is the library's (alexnet_viz/serving/pagecosts.py), so that the command line reports the
same figures: `python -m alexnet_viz loadtest --page-costs`. This script keeps the old name and flags.

    .venv/bin/python -m scripts.first_visit                # the article variant, random weights
    .venv/bin/python -m scripts.first_visit --json
"""
from __future__ import annotations

import sys

from alexnet_viz.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    return cli_main(["loadtest", "--page-costs", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
