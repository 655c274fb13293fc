"""The image pages in a real browser: Debian's chromium driven by Playwright against a live server.

Upload a photo on the feature-map page and see the grid painted; follow the sidebar to the
prediction page and see the top-5 chart; upload a file that is not an image and get a message.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alexnet_viz.figures import mosaic
from devtools.pagecheck import settle
from tests.helpers import ROOT, no_error_on
from ui.page import FOLDED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLES = ROOT / "assets" / "samples"
WAIT_MS = 120_000
# The natural width of the one image captioned with `text`, once it is loaded and decoded (else false).
PAINTED_WIDTH = """text => {
    const imgs = [...document.querySelectorAll('figure.avz-grid')]
        .filter(e => e.innerText.includes(text)).map(e => e.querySelector('img'));
    return imgs.length === 1 && imgs[0].complete && imgs[0].naturalWidth > 0 ? imgs[0].naturalWidth : false;
}"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


def _settled(page) -> None:
    settle(page, WAIT_MS)


def _unfold(page) -> None:
    """Open the photo picker: the image pages fold it (and fold it again once a photo is chosen)."""
    if not page.locator('[data-testid="stFileUploader"]').first.is_visible():
        page.get_by_text(FOLDED).click()
        _settled(page)  # opening it reruns the page (the fold is kept in the session): a click before that is lost


def _upload(page, path: Path) -> None:
    _unfold(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))


def test_photo_upload_paints_the_grid_then_the_prediction_page_charts_it(app_url, page):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/feature-maps?layer=C1")
    _settled(page)
    _upload(page, SAMPLES / "astronaut.jpg")
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Showing your upload")
    expect(caption.first).to_contain_text("astronaut.jpg", timeout=WAIT_MS)
    _settled(page)
    grid = page.locator("figure.avz-grid").filter(has_text="all 96 channels").locator("img")
    expect(grid).to_be_visible(timeout=WAIT_MS)
    painted = page.wait_for_function(PAINTED_WIDTH, arg="all 96 channels", timeout=WAIT_MS)
    expected_width = mosaic.feature_grid(np.zeros((96, 55, 55), dtype=np.float32)).image.shape[1]
    assert painted.json_value() == expected_width
    no_error_on(page)

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Prediction").click()
    expect(page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible(timeout=WAIT_MS)
    _settled(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_contain_text("Top 5 classes")
    expect(chart.locator(".bars .point")).to_have_count(5)
    expect(caption.first).to_contain_text("astronaut.jpg")  # the upload followed the session
    expect(page.locator('[data-testid="stAlertContentWarning"]').first).to_contain_text("random")
    no_error_on(page)


def test_a_second_upload_replaces_the_first_without_showing_the_sample_between(app_url, page):
    """Streamlit replaces a file in two reruns, the first with no file: the sample must not flash up between."""
    from playwright.sync_api import expect

    page.goto(f"{app_url}/feature-maps?layer=C1")
    _settled(page)
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Showing")
    _upload(page, SAMPLES / "astronaut.jpg")
    expect(caption.first).to_contain_text("astronaut.jpg", timeout=WAIT_MS)
    _settled(page)
    for photo in ("rocket.jpg", "coffee.jpg"):
        page.evaluate("""() => {  // every caption the page shows from now on
            window.__captions = [];
            new MutationObserver(() => document.querySelectorAll('[data-testid="stCaptionContainer"]')
                .forEach(c => window.__captions.push(c.innerText))).observe(document.body,
                {childList: true, subtree: true, characterData: true});
        }""")
        _upload(page, SAMPLES / photo)
        expect(caption.first).to_contain_text(photo, timeout=WAIT_MS)
        _settled(page)
        seen = page.evaluate("() => window.__captions")
        assert seen and not any("Chelsea" in c for c in seen)  # the default sample's caption
    # Really removing the file (its ×) still brings the sample back.
    _unfold(page)
    page.locator('[data-testid="stFileChipDeleteBtn"] button').first.click()
    expect(caption.first).to_contain_text("Chelsea", timeout=WAIT_MS)
    _settled(page)
    no_error_on(page)


def test_a_file_that_is_not_an_image_gets_a_message_not_a_traceback(app_url, page, tmp_path):
    from playwright.sync_api import expect

    notes = tmp_path / "notes.png"
    notes.write_text("these are my notes, not a picture\n" * 50)
    page.goto(f"{app_url}/feature-maps")
    _settled(page)
    _upload(page, notes)
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error.first).to_contain_text("notes.png", timeout=WAIT_MS)
    _settled(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stImage"]')).to_have_count(0)
    expect(page.locator("figure.avz-grid")).to_have_count(0)
