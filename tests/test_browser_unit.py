"""In a real browser: from a feature-map channel's close-up, the link opens that unit's page."""
from __future__ import annotations

import re

import pytest

from devtools.server import launch_chromium, running_app
from devtools.stproto import StreamlitSession

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    env = {"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu",
           "ALEXNET_CACHE": str(tmp_path_factory.mktemp("cache"))}
    with running_app(env=env) as (url, _proc):
        warm = StreamlitSession(url, timeout=180)
        warm.rerun()  # the model loads once here
        warm.close()
        yield url


def test_the_channel_close_up_links_to_its_unit_page(app_url) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.goto(f"{app_url}/feature-maps?layer=C3&channel=17", wait_until="domcontentloaded")
            link = page.get_by_role("link", name="Open the unit page for C3 channel 17")
            expect(link).to_be_visible(timeout=WAIT_MS)
            link.click()
            expect(page.get_by_role("heading", name="Inside one unit")).to_be_visible(timeout=WAIT_MS)
            expect(page).to_have_url(re.compile(r"/unit\?.*layer=C3"), timeout=WAIT_MS)
            assert "channel=17" in page.url
            expect(page.get_by_text("No picture for C3 channel 17 yet")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text("C3 channel 17 over the image the network sees")).to_be_visible(timeout=WAIT_MS)
        finally:
            browser.close()
