"""The overview's network in a real browser: whole at a desktop's and a phone's width, and a click (or a tap)
on a block opens that layer's page.

On a phone the fixed 3-D camera showed only C3-C7; there a 2-D strip replaces it. Streamlit reports no click
on a 3-D scene, so ui/plotclicks.py does: these tests click the drawing itself, not the buttons under it.
"""
from __future__ import annotations

import re

import pytest

from devtools.pagecheck import SCROLL_WIDTH, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
# Where across the 3-D chart's middle the pointer hovers each block (plotly_hover's trace names).
HOVER_LOG = """() => { const gd = document.querySelector('.st-key-blocks_3d .js-plotly-plot');
    window.__hovered = null; gd.on('plotly_hover', ev => { window.__hovered = ev.points[0].data.name; }); }"""


def test_a_click_on_a_3d_block_opens_its_layer(app_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/overview")
        settle(page, WAIT_MS)
        chart = page.locator(".st-key-blocks_3d .js-plotly-plot")
        expect(chart).to_be_visible()
        expect(page.locator(".st-key-blocks_2d")).to_be_hidden()  # the desktop gets the 3-D scene
        page.wait_for_function("() => document.querySelector('.st-key-blocks_3d .js-plotly-plot').on")
        page.evaluate(HOVER_LOG)
        box = chart.bounding_box()
        found = None
        for step in range(40):  # move along the middle until the pointer is on C5
            x, y = box["x"] + box["width"] * (0.3 + 0.5 * step / 40), box["y"] + box["height"] * 0.5
            page.mouse.move(x, y)
            page.wait_for_timeout(120)
            if page.evaluate("() => window.__hovered") == "C5":
                found = (x, y)
                break
        assert found, "no point of the chart's middle is on C5"
        page.mouse.click(*found)  # a quick click: plotly.js alone would not report it in a 3-D scene
        expect(page).to_have_url(re.compile(r"/layers\?(.*&)?layer=C5"), timeout=WAIT_MS)
        expect(page.get_by_text("C5: convolution").first).to_be_visible(timeout=WAIT_MS)
    finally:
        context.close()


def test_on_a_phone_the_whole_network_fits_and_a_tap_opens_a_layer(app_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/overview?variant=paper")
        settle(page, WAIT_MS)
        expect(page.locator(".st-key-blocks_3d")).to_be_hidden()
        strip = page.locator(".st-key-blocks_2d .js-plotly-plot")
        expect(strip).to_be_visible()
        box = strip.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        ticks = [t.text_content() for t in page.locator(".st-key-blocks_2d .ytick text").all()]
        assert sorted(ticks) == sorted(["input", "C1", "S2", "C3", "S4", "C5", "C6", "C7", "S8", "F9", "F10", "F11"])
        for label in page.locator(".st-key-blocks_2d .ytick text").all():  # every name on the screen's width
            b = label.bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 390
        assert page.evaluate(SCROLL_WIDTH) <= 390
        caption = page.locator(".st-key-blocks_2d").get_by_text("Tap a bar to open its layer")
        expect(caption).to_be_visible()
        c3 = page.locator(".st-key-blocks_2d .bars .point").nth(3)  # C3 (the bars are in the data's order)
        c3.scroll_into_view_if_needed()
        bar = c3.bounding_box()
        page.touchscreen.tap(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # the bar itself
        expect(page).to_have_url(re.compile(r"/layers\?(.*&)?layer=C3"), timeout=WAIT_MS)
    finally:
        context.close()
