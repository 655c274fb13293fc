"""The answer-first image pages on a phone (390×844) in a real browser: once a photo is chosen, the
feature grid and the top-5 chart start within the first screen, not under the banner and the picker."""
from __future__ import annotations

import pytest

from devtools.pagecheck import settle
from tests.helpers import ROOT, no_error_on
from ui.page import FOLDED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
PHONE = {"width": 390, "height": 844}
# The top of the first element matching the selector, measured from the top of the page (main area scrolled up).
TOP = """sel => { const m = document.querySelector('[data-testid="stMain"]'); if (m) m.scrollTop = 0;
    window.scrollTo(0, 0); const e = document.querySelector(sel); return e ? e.getBoundingClientRect().top : null; }"""


@pytest.mark.parametrize("path,answer", [("feature-maps", "figure.avz-grid img"),
                                         ("prediction", '[data-testid="stPlotlyChart"]')])
def test_after_a_photo_is_chosen_the_answer_starts_on_the_first_screen(app_url, browser, path, answer):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/{path}")
        settle(page)
        folded = page.get_by_text(FOLDED)
        if folded.count():  # the picker, folded
            folded.click()
        upload = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        upload.set_input_files(str(ROOT / "assets" / "samples" / "astronaut.jpg"))
        expect(page.locator(answer).first).to_be_visible(timeout=WAIT_MS)
        settle(page)
        expect(page.locator('[data-testid="stCaptionContainer"]').filter(has_text="astronaut.jpg")).to_have_count(1)
        top = page.evaluate(TOP, answer)
        assert top is not None and top < PHONE["height"], f"the answer starts {top} px down the 844 px screen"
        no_error_on(page)
    finally:
        context.close()
