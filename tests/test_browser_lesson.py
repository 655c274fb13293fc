"""The lesson in a real browser: from step 1 to the last by Next, the step in the URL each time, no sideways scroll.

Screenshots of every step go to $ALEXNET_SHOTS when it is set, to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devtools.pagecheck import CONTENT_HEIGHT, SCROLL_WIDTH, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
STEPS = 10
VIEWPORTS = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _shot(page, viewport: dict, name: str) -> None:
    """A full-length screenshot when $ALEXNET_SHOTS names a folder (the main area scrolls inside the page)."""
    folder = os.environ.get("ALEXNET_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": viewport["width"], "height": min(12_000, page.evaluate(CONTENT_HEIGHT))})
    page.wait_for_timeout(800)
    page.screenshot(path=str(Path(folder) / name))
    page.set_viewport_size(viewport)


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_next_walks_every_step_with_the_step_in_the_url_and_nothing_wider_than_the_screen(app_url, browser, width):
    from playwright.sync_api import expect

    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    titles, wider = [], {}
    try:
        page.goto(f"{app_url}/lesson")
        settle(page, WAIT_MS)
        for n in range(1, STEPS + 1):
            expect(page).to_have_url(re.compile(rf"/lesson\?(.*&)?step={n}(&|$)"), timeout=WAIT_MS)
            expect(page.get_by_text(f"AlexNet, step by step: {n} of {STEPS}")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
            expect(page.get_by_text("✗")).to_have_count(0)  # every check written out agrees
            if (scroll := page.evaluate(SCROLL_WIDTH)) > viewport["width"]:
                wider[n] = scroll
            titles.append(page.locator("h1").first.inner_text())
            _shot(page, viewport, f"lesson_step_{n}_{width}.png")
            nxt = page.get_by_role("button", name=re.compile("Next"))
            if n == STEPS:
                expect(nxt).to_be_disabled()
                break
            nxt.click()
            expect(page.get_by_text(f"AlexNet, step by step: {n + 1} of {STEPS}")).to_be_visible(timeout=WAIT_MS)
            settle(page, WAIT_MS)
    finally:
        context.close()
    assert not wider, f"steps wider than the {viewport['width']} px screen: {wider}"
    assert len(set(titles)) == STEPS, titles


def test_a_teachers_link_opens_that_step_and_previous_goes_back(app_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["390"])
    page = context.new_page()
    try:
        page.goto(f"{app_url}/lesson?step=5&sample=coffee")
        settle(page, WAIT_MS)
        expect(page.get_by_text(f"AlexNet, step by step: 5 of {STEPS}")).to_be_visible()
        assert "sample=coffee" in page.url
        page.get_by_role("button", name=re.compile("Previous")).click()
        expect(page).to_have_url(re.compile(r"step=4(&|$)"), timeout=WAIT_MS)
        settle(page, WAIT_MS)
        page.get_by_text("Your photo (change it here)").click()  # the picker, folded on later steps
        expect(page.get_by_text("A cup of coffee").first).to_be_visible(timeout=WAIT_MS)
    finally:
        context.close()
