"""`alexnet-viz loadtest --page-costs`: each page's first visit and warm rerun on a fresh server, against the floor."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loadtest", help="what each page costs on a freshly started server, against a stock "
                                        "Streamlit app",
                       description="--page-costs starts a stock one-line Streamlit app (the floor), then this app, "
                                   "each on a fresh loopback server; GRACE seconds after each answers its health "
                                   "check it opens every page once by a new session (the first visit), then reruns "
                                   "each in one session (warm, median of REPEATS), and prints both with their "
                                   "multiples of the floor's. Needs the repository checkout (streamlit_app.py). "
                                   "Many sessions at once: `python -m scripts.loadtest` in the repository.")
    p.add_argument("--page-costs", action="store_true", required=True,
                   help="measure every page's first visit and warm rerun against the floor")
    p.add_argument("--grace", type=float, default=5.0, help="seconds after the health check before the first visit")
    p.add_argument("--repeats", type=int, default=7, help="warm reruns per page (their median)")
    p.add_argument("--weights", default="random",
                   help="ALEXNET_WEIGHTS for the server (default random: offline and repeatable)")
    p.add_argument("--device", default="cpu", help="ALEXNET_DEVICE for the server")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.serving.pagecosts import GOAL_X_FLOOR, as_json, page_costs, table

    costs = page_costs({"ALEXNET_WEIGHTS": args.weights, "ALEXNET_DEVICE": args.device}, args.grace,
                       max(1, args.repeats))
    print(json.dumps(as_json(costs), indent=2) if args.json else table(costs))
    return 0 if costs.worst_first_x <= GOAL_X_FLOOR else 1
