"""Views that link, bad links, and every page on a phone, in a real browser (Playwright + Debian's chromium).

Screenshots of every page at 390×844 go to $ALEXNET_SHOTS (default: the test's tmp dir), to look at.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from alexnet_viz.figures import mosaic
from devtools.pagecheck import CONTENT_HEIGHT, SCROLL_WIDTH, settle
from tests.helpers import no_error_on

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
PAGES = ["/overview", "/layers?layer=C3", "/lab", "/operations", "/article", "/feature-maps", "/filters",
         "/filters?layer=C3", "/prediction", "/ideas", "/unit", "/training"]


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport)
    return context, context.new_page()


@contextmanager
def _opened(browser, url: str) -> Iterator:
    """A page at desktop width on `url`, settled; its browser context closed afterwards."""
    context, page = _page(browser, DESKTOP)
    try:
        page.goto(url)
        _settled(page)
        yield page
    finally:
        context.close()


def _settled(page) -> None:
    settle(page, WAIT_MS)


def test_every_page_fits_a_phone(app_url, browser, tmp_path):
    shots = Path(os.environ.get("ALEXNET_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    context, page = _page(browser, PHONE)
    wider = {}
    try:
        for path in PAGES:
            page.goto(app_url + path)
            _settled(page)  # (the article page shows the article's errors as red alerts on purpose)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            width = page.evaluate(SCROLL_WIDTH)
            if width > PHONE["width"]:
                wider[path] = width
            name = path.strip("/").replace("?", "_").replace("=", "_").replace("&", "_") or "home"
            # The main area scrolls inside the page: a viewport as tall as its content shows all of it.
            page.set_viewport_size({"width": PHONE["width"], "height": min(12_000, page.evaluate(CONTENT_HEIGHT))})
            page.wait_for_timeout(800)
            page.screenshot(path=str(shots / f"phone_{name}.png"))
            page.set_viewport_size(PHONE)
    finally:
        context.close()
    assert not wider, f"pages wider than the {PHONE['width']} px viewport: {wider}"


def test_overview_opens_at_its_own_path_and_at_the_root(app_url, browser):
    from playwright.sync_api import expect

    context, page = _page(browser, DESKTOP)
    try:
        for path in ("/overview?variant=paper", "/?variant=paper"):
            page.goto(app_url + path)
            _settled(page)
            expect(page.locator("h1").first).to_contain_text("AlexNet whole")
            expect(page.get_by_text("Page not found")).to_have_count(0)
            assert page.url.split("?")[0].endswith("/overview")
            assert "variant=paper" in page.url  # the link's parameters survive the hand-over
    finally:
        context.close()


def test_a_click_on_a_grid_tile_opens_that_channel_then_its_unit_page(app_url, browser):
    from playwright.sync_api import expect

    with _opened(browser, f"{app_url}/feature-maps?layer=C1") as page:
        grid = page.locator("figure.avz-grid img")
        expect(grid).to_be_visible(timeout=WAIT_MS)
        m = mosaic.feature_grid(np.zeros((96, 55, 55), dtype=np.float32))
        row, col = 1, 2
        x0, y0, x1, y1 = m.tile_box(row * m.cols + col)
        box = grid.bounding_box()
        shown = box["width"] / m.image.shape[1]
        target = {"x": (x0 + x1) / 2 * shown, "y": (y0 + y1) / 2 * shown}
        grid.hover(position=target)
        assert grid.get_attribute("title").startswith(f"channel {row * m.cols + col}")
        grid.click(position=target)
        channel = page.get_by_label("Channel (0–95)")
        expect(channel).to_have_value(str(row * m.cols + col), timeout=WAIT_MS)
        _settled(page)
        assert f"channel={row * m.cols + col}" in page.url
        no_error_on(page)
        # ...and from the close-up, everything about that unit (issue 13: a tile leads to the unit page).
        page.get_by_role("link", name=f"Open the unit page for C1 channel {row * m.cols + col}").click()
        expect(page.get_by_role("heading", name="Inside one unit")).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        assert "/unit?" in page.url and "layer=C1" in page.url and f"channel={row * m.cols + col}" in page.url
        no_error_on(page)


def test_a_close_up_reads_values_under_the_pointer_and_a_click_picks_the_unit(app_url, browser):
    from playwright.sync_api import expect

    with _opened(browser, f"{app_url}/feature-maps?layer=C3&channel=5") as page:
        after = page.locator("figure.avz-map").first
        img = after.locator("img")
        expect(img).to_be_visible(timeout=WAIT_MS)
        expect(after.locator(".title")).to_have_text("C3 channel 5, after the ReLU")
        box = img.bounding_box()
        assert box is not None
        side = 27  # C3 is 27×27 in the article's network
        row, col = 20, 4
        target = {"x": (col + 0.5) * box["width"] / side, "y": (row + 0.5) * box["height"] / side}
        img.hover(position=target)
        readout = after.locator(".readout")
        expect(readout).to_contain_text(f"row, col ({row}, {col}): ")
        value = float(readout.inner_text().rsplit(":", 1)[1])
        assert img.get_attribute("title").startswith(f"row {row}, col {col}: ")
        img.click(position=target)
        expect(page.get_by_role("spinbutton", name="Unit row")).to_have_value(str(row), timeout=WAIT_MS)
        expect(page.get_by_role("spinbutton", name="Unit column")).to_have_value(str(col), timeout=WAIT_MS)
        _settled(page)
        caption = page.get_by_text(f"Receptive field of unit ({row}, {col}), value")
        expect(caption).to_be_visible(timeout=WAIT_MS)
        shown = float(caption.inner_text().split("value ", 1)[1].split(":", 1)[0])
        assert shown == pytest.approx(value, rel=1e-3, abs=1e-6)  # the pointer read the unit the page now uses
        # The marker sits on the picked unit, in both close-ups.
        for fig in page.locator("figure.avz-map").all():
            mark = fig.locator(".mark").bounding_box()
            pic = fig.locator("img").bounding_box()
            assert mark is not None and pic is not None
            assert round((mark["x"] - pic["x"]) / pic["width"] * side) == col
            assert round((mark["y"] - pic["y"]) / pic["height"] * side) == row
        # The close-up before the ReLU picks a unit too (its own callback, its own widget).
        before = page.locator("figure.avz-map").nth(1)
        expect(before.locator(".title")).to_have_text("C3 channel 5, before the ReLU")
        pic = before.locator("img").bounding_box()
        assert pic is not None
        before.locator("img").click(position={"x": 26.5 * pic["width"] / side, "y": 0.5 * pic["height"] / side})
        expect(page.get_by_role("spinbutton", name="Unit row")).to_have_value("0", timeout=WAIT_MS)
        expect(page.get_by_role("spinbutton", name="Unit column")).to_have_value("26", timeout=WAIT_MS)
        _settled(page)
        expect(page.get_by_text("Receptive field of unit (0, 26), value")).to_be_visible(timeout=WAIT_MS)
        no_error_on(page)


def test_a_click_on_a_ledger_row_opens_the_layer_page(app_url, browser):
    from playwright.sync_api import expect

    with _opened(browser, f"{app_url}/overview") as page:
        table = page.locator('[data-testid="stDataFrame"]').first
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        # Row 3 (C3) of the ledger: the header is one row high; the selection column is at the left edge.
        table.click(position={"x": 15, "y": 35 * 3.5})
        expect(page.locator("h1").first).to_contain_text("Layer by layer", timeout=WAIT_MS)
        assert box is not None
        assert "layer=C3" in page.url


@pytest.mark.parametrize("path, asked, shown", [("/layers?layer=C99", "C99", "C1"),
                                                ("/layers?layer=c3", "c3", "C3"),
                                                ("/feature-maps?layer=C1&channel=9999", "9999", "0")])
def test_a_bad_link_says_what_it_shows_instead(app_url, browser, path, asked, shown):
    from playwright.sync_api import expect

    with _opened(browser, app_url + path) as page:
        note = page.locator('[data-testid="stAlert"]').filter(has_text="The link asks for")
        expect(note.first).to_contain_text(asked, timeout=WAIT_MS)
        expect(note.first).to_contain_text(f"showing {shown}")
        no_error_on(page)
