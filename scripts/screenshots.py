"""Screenshots of app pages at a desktop and a phone width, to look at as a user would.

    python -m scripts.screenshots /lab "/layers?layer=C3" --widths 1440,390 --out out/shots

Starts the app on a free loopback port (devtools.server), opens each path in Debian's chromium,
waits until Streamlit has stayed idle, and writes full-length PNGs named after path and width (the
main area scrolls inside the page, so the window is made as tall as its content for the shot).
Also prints whether a page is wider than the viewport (horizontal scroll on a phone).
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from devtools.pagecheck import CONTENT_HEIGHT, SCROLL_WIDTH, settle
from devtools.server import launch_chromium, running_app


def _name(path: str, width: int) -> str:
    return (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home") + f"_{width}.png"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--widths", default="1440,390")
    ap.add_argument("--out", default="out/shots")
    ap.add_argument("--wait", type=float, default=2.0, help="extra seconds after the run finishes")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    widths = [int(w) for w in args.widths.split(",")]
    with running_app(env=dict(os.environ)) as (url, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        for width in widths:
            viewport = {"width": width, "height": 900 if width > 600 else 844}
            ctx = browser.new_context(viewport=viewport)
            page = ctx.new_page()
            for path in args.paths:
                page.goto(url + path, wait_until="domcontentloaded")
                settle(page)
                page.wait_for_timeout(int(args.wait * 1000))
                wide = page.evaluate(SCROLL_WIDTH) > width
                page.set_viewport_size({"width": width, "height": min(12_000, page.evaluate(CONTENT_HEIGHT))})
                page.wait_for_timeout(1500)
                file = out / _name(path, width)
                page.screenshot(path=str(file))
                page.set_viewport_size(viewport)
                print(f"{file}  {'WIDER THAN VIEWPORT' if wide else 'fits'}", flush=True)
            ctx.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
