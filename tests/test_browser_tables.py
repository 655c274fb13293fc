"""The layer ledger at a desktop's 1440 px, in a real browser: every column on the screen, no sideways scrolling.

Only a browser shows it: the data grid sizes its columns from their contents when it paints.
"""
from __future__ import annotations

import pytest

from devtools.pagecheck import settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
# (scrollWidth, clientWidth) of the grid whose headers include the ledger's "running total".
LEDGER_WIDTHS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(t => [...t.querySelectorAll('[role=columnheader]')].some(h => h.textContent.trim() === 'running total'))
    .map(t => { const s = t.querySelector('.dvn-scroller'); return [s.scrollWidth, s.clientWidth]; })"""


@pytest.mark.parametrize("path", ["/lab", "/overview", "/overview?variant=paper"])
def test_the_ledger_fits_1440_px_without_sideways_scrolling(app_url, browser, path):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(app_url + path)
        settle(page, WAIT_MS)
        page.locator('[data-testid="stDataFrame"] .dvn-scroller').first.wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(1000)  # the grid sizes its columns once painted
        widths = page.evaluate(LEDGER_WIDTHS)
        assert len(widths) == 1, widths
        (scroll, client), = widths
        assert scroll <= client, f"the ledger on {path} is {scroll} px wide in a {client} px box"
    finally:
        context.close()
