"""First visits to a freshly started server, page by page, against a stock Streamlit app's first visit.

What a class feels is the first visit: the first student to open a page of a server that has just
started. For each app (this one, then scripts/floor_app.py: one st.write, the cheapest page
Streamlit can serve) this starts a fresh server on loopback, waits until it is healthy and then
`--grace` seconds more (what a server gets before its first visitor), and opens every page once,
each by a NEW session (websocket), in navigation order, timing the request until script_finished.
Then one session reruns each page `--repeats` times for the warm figure. Every figure is printed
with its ratio to the floor's figure from the same run (this machine is shared and noisy).

    .venv/bin/python -m scripts.first_visit                # the article variant, random weights
    .venv/bin/python -m scripts.first_visit --json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from devtools.server import running_app
from devtools.stproto import StreamlitSession
from ui.navigation import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
GOAL = 10.0  # issue 23: every first visit within 10x the floor's
IMAGE_PAGES = {"feature-maps", "filters", "prediction", "ideas", "unit"}


def cpu_name() -> str:
    """The processor, for the figures' caption (this project's machine changes between sessions)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(script: Path, pages: list[str], env: dict[str, str], grace: float, repeats: int) -> dict[str, dict]:
    """{page: {"first_s", "warm_s"}} on a fresh server: each first visit by a new session."""
    out: dict[str, dict] = {}
    with running_app(script, env=env) as (url, _proc):
        time.sleep(grace)
        for page in pages:
            session = StreamlitSession(url, timeout=180)
            first = session.rerun("", page)
            session.close()
            if first.failed:
                raise RuntimeError(f"/{page}: {first.describe_failure()}")
            out["/" + page] = {"first_s": first.latency_s}
        session = StreamlitSession(url, timeout=180)
        for page in pages:
            warm = [session.rerun("", page).latency_s for _ in range(repeats)]
            out["/" + page]["warm_s"] = statistics.median(warm)
        session.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--grace", type=float, default=5.0, help="seconds after the health check before the first visit")
    ap.add_argument("--repeats", type=int, default=7, help="warm reruns per page (median)")
    ap.add_argument("--weights", default="random", help="ALEXNET_WEIGHTS for the server (default random: offline)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    env = {"ALEXNET_WEIGHTS": args.weights, "ALEXNET_DEVICE": "cpu"}
    pages = [""] + [path for _, rows in SECTIONS for *_, path in rows]
    load_before = os.getloadavg()[0]
    floor = measure(ROOT / "scripts" / "floor_app.py", [""], env, args.grace, args.repeats)["/"]
    ours = measure(ROOT / "streamlit_app.py", pages, env, args.grace, args.repeats)
    load_after = os.getloadavg()[0]
    rows = {page: {**{k: round(v, 3) for k, v in f.items()}, "first_x_floor": round(f["first_s"] / floor["first_s"], 1),
                   "warm_x_floor": round(f["warm_s"] / floor["warm_s"], 1)} for page, f in ours.items()}
    worst = max(r["first_x_floor"] for r in rows.values())
    report = {"cpu": cpu_name(), "load_average": [round(load_before, 2), round(load_after, 2)],
              "floor": {k: round(v, 3) for k, v in floor.items()}, "pages": rows, "worst_first_x_floor": worst,
              "goal_x_floor": GOAL}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['cpu']}; 1-minute load {load_before:.2f} -> {load_after:.2f}; grace {args.grace} s")
        print(f"floor (stock Streamlit, one st.write): first {floor['first_s']:.3f} s, warm {floor['warm_s']:.3f} s")
        print(f"{'page':16} {'first s':>8} {'x floor':>8} {'warm s':>8} {'x floor':>8}")
        for page, r in rows.items():
            print(f"{page:16} {r['first_s']:8.3f} {r['first_x_floor']:8.1f} {r['warm_s']:8.3f} "
                  f"{r['warm_x_floor']:8.1f}")
        print(f"worst first visit: {worst:.1f}x the floor (goal <= {GOAL:.0f}x)")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
