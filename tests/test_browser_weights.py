"""The weights download in a real browser: two sessions watch one progress bar, then the failure banner.

The app starts with ALEXNET_WEIGHTS unset and an empty TORCH_HOME; $ALEXNET_WEIGHTS_URL points at a
slow server on 127.0.0.1 that serves a file with the right name but the wrong bytes, so the download
runs long enough to be seen, is verified after it lands, and fails.
"""
from __future__ import annotations

import numpy as np
import pytest

from devtools.server import launch_chromium, running_app
from tests.fileserver import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 120_000
NAME = "alexnet-owt-7be5be79.pth"
BODY = np.random.default_rng(3).integers(0, 256, 12_000_000, dtype=np.uint8).tobytes()  # 12 MB, not the file


def test_two_sessions_share_one_download_then_see_the_banner(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with serving({NAME: BODY}, rate=1_500_000) as srv, \
            running_app(env={"ALEXNET_WEIGHTS": "", "ALEXNET_DEVICE": "cpu", "TORCH_HOME": str(tmp_path / "th"),
                             "ALEXNET_WEIGHTS_URL": srv.url(NAME)}) as (url, _proc), \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        first, second = (browser.new_context(viewport={"width": 1440, "height": 900}).new_page() for _ in range(2))
        first.goto(f"{url}/feature-maps")
        bar = first.locator('[data-testid="stProgress"]')
        expect(bar).to_contain_text("MB/s", timeout=WAIT_MS)
        expect(bar).to_contain_text("of 12.0 MB")
        second.goto(f"{url}/filters")  # another session, another page: the same download
        expect(second.locator('[data-testid="stProgress"]')).to_contain_text("Downloading the trained ImageNet weights",
                                                                            timeout=WAIT_MS)
        for page in (first, second):
            banner = page.locator('[data-testid="stAlertContentWarning"]').first
            expect(banner).to_contain_text("could not be downloaded", timeout=WAIT_MS)
            expect(banner).to_contain_text("not the expected one")
            expect(page.locator('[data-testid="stProgress"]')).to_have_count(0)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert srv.gets == 1
        browser.close()
    assert not (tmp_path / "th" / "hub" / "checkpoints" / NAME).exists()
