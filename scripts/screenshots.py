"""Screenshots of app pages at a desktop and a phone width, to look at as a user would.

    python -m scripts.screenshots /lab "/layers?layer=C3" --widths 1440,390 --out out/shots

Starts the app on a free loopback port (devtools.server), opens each path in Debian's chromium,
waits for Streamlit to finish running, and writes full-page PNGs named after path and width.
Also prints whether a page is wider than the viewport (horizontal scroll on a phone).
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path


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
            ctx = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844})
            page = ctx.new_page()
            for path in args.paths:
                page.goto(url + path, wait_until="domcontentloaded")
                page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
                page.wait_for_timeout(1000)
                page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                       timeout=120_000)
                page.wait_for_timeout(int(args.wait * 1000))
                wide = page.evaluate("document.documentElement.scrollWidth") > width
                file = out / _name(path, width)
                page.screenshot(path=str(file), full_page=True)
                print(f"{file}  {'WIDER THAN VIEWPORT' if wide else 'fits'}")
            ctx.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
