"""What a browser test or a screenshot asks of a Streamlit page: is it idle, how wide, how tall.

Streamlit's main area scrolls inside the page, so the document's own scroll size says little: the
widest of the page and of Streamlit's scroll containers is what a phone would scroll sideways, and
the main area's scroll height is how tall a full-length screenshot must be.
"""
from __future__ import annotations

SCROLL_WIDTH = """() => Math.max(document.documentElement.scrollWidth, ...['stApp', 'stAppViewContainer', 'stMain']
    .map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean).map(e => e.scrollWidth))"""
CONTENT_HEIGHT = """() => { const m = document.querySelector('[data-testid="stMain"]');
    return m ? m.scrollHeight : document.documentElement.scrollHeight; }"""
# Streamlit is idle: no running indicator, no skeleton still waiting for its element.
IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')"""


def settle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the page has a title and has stayed idle for three checks a second apart."""
    page.locator("h1").first.wait_for(timeout=timeout_ms)
    quiet = 0
    for _ in range(timeout_ms // 1000):
        page.wait_for_timeout(1000)
        quiet = quiet + 1 if page.evaluate(IDLE) else 0
        if quiet == 3:
            return
    raise TimeoutError("the page never settled")
