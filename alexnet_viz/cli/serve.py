"""`alexnet-viz serve`: N Streamlit processes behind HAProxy, the layout for a whole class."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="N Streamlit processes behind HAProxy: the layout for a whole class",
                       description="Starts --replicas Streamlit processes on loopback ports and HAProxy in front "
                                   "(sticky sessions, websockets, upload limits, health checks, /_stcore/metrics "
                                   "kept private); restarts a replica that exits. See docs/SERVING.md.")
    p.add_argument("--replicas", type=int, default=2, metavar="N")
    p.add_argument("--port", type=int, default=8501, help="the port people open (default 8501)")
    p.add_argument("--bind", default="127.0.0.1", help="the proxy's address; 0.0.0.0 to serve the network")
    p.add_argument("--run-dir", default=None, metavar="DIR",
                   help="haproxy.cfg and logs (default /tmp/alexnet-serve-PORT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.serving.serve import serve

    return serve(args.replicas, port=args.port, bind=args.bind, run_dir=args.run_dir)
