"""Watch it learn, in a real browser: press Start on the Training page of a server this test starts,
see the loss values follow one another and C1's picture redrawn, press Stop, and open the checkpoint
on another page (Filters' "compare with").

The server trains the demo recipe on a tiny budget (ALEXNET_TRAINING_ARGS: 16 pictures a class,
batch 8, one loss line a step, one thread), so the test waits on what the page shows, never on a clock.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from alexnet_viz.train import manager, runs
from devtools.server import launch_chromium, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 300_000  # the first steps on a loaded 2-core machine; a wait, not a timing assertion
STEP = re.compile(r"Step (\d+): loss ([0-9.]+)")


def _losses_seen(page, wanted: int) -> list[tuple[int, str]]:
    """Poll the live caption until `wanted` different (step, loss) pairs have been shown."""
    seen: list[tuple[int, str]] = []
    caption = page.get_by_text(STEP)
    for _ in range(WAIT_MS // 500):
        if caption.count():
            found = STEP.search(caption.first.inner_text())
            if found and (int(found[1]), found[2]) not in seen:
                seen.append((int(found[1]), found[2]))
                if len(seen) >= wanted:
                    return seen
        page.wait_for_timeout(500)
    raise AssertionError(f"only saw {seen}")


def _filter_pictures_seen(page, wanted: int) -> list[str]:
    """Poll the live C1 picture's address until it has changed `wanted` - 1 times (a new picture, a new URL)."""
    seen: list[str] = []
    picture = page.locator('[data-testid="stImage"]').filter(has_text="C1's filters").locator("img")
    for _ in range(WAIT_MS // 500):
        if picture.count():
            src = picture.first.get_attribute("src") or ""
            if src and src not in seen:
                seen.append(src)
                if len(seen) >= wanted:
                    return seen
        page.wait_for_timeout(500)
    raise AssertionError(f"the filter picture was drawn {len(seen)} time(s)")


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox `label`; a rerun that lands while the list is open closes it, so retry."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    box.wait_for(timeout=WAIT_MS)
    choice = page.get_by_role("option", name=re.compile(re.escape(option)))
    for _ in range(20):
        box.click()
        try:
            choice.click(timeout=3000)
            return
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the list closed or was not open yet
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option} in {label}")


def test_start_watch_stop_then_open_the_checkpoint_elsewhere(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    env = {"ALEXNET_RUNS": str(tmp_path), "ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu",
           manager.PERMISSION_ENV: "1", "OMP_NUM_THREADS": "1",
           manager.ARGS_ENV: "--demo-per-class 16 --batch-size 8 --log-every 1 --workers 0 --threads 1"}
    with running_app(env=env) as (url, _proc), sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        page.goto(f"{url}/training?variant=torchvision")
        start = page.get_by_role("button", name="Start training")
        expect(start).to_be_enabled(timeout=WAIT_MS)
        page.get_by_role("spinbutton", name="Epochs").fill("20")  # far more than the test waits for
        page.get_by_role("spinbutton", name="Epochs").press("Enter")
        start.click()
        expect(page.get_by_role("button", name="Stop")).to_be_visible(timeout=WAIT_MS)
        steps = [step for step, _ in _losses_seen(page, 3)]
        assert steps == sorted(steps) and len(set(steps)) == 3  # successive values, redrawn without a touch
        assert len(_filter_pictures_seen(page, 2)) == 2
        expect(page.get_by_text(re.compile(r"epoch \d+\.\d\d of 20"))).to_be_visible()  # the progress bar
        page.get_by_role("button", name="Stop").click()
        expect(start).to_be_visible(timeout=WAIT_MS)  # the run ended: Start is back for everybody
        run = next(p for p in tmp_path.iterdir() if p.name.startswith("page-demo-"))
        records = runs.read_metrics(run)
        assert records[-1]["kind"] == "end" and records[-1]["stopped"] == "interrupted"
        assert (run / runs.WEIGHTS).is_file() and not (tmp_path / manager.LOCK).exists()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)

        page.goto(f"{url}/filters?variant=torchvision")
        _choose(page, "Compare with", run.name)
        after = page.get_by_text(re.compile(f"After: {run.name}"))
        expect(after).to_be_visible(timeout=WAIT_MS)
        expect(page.locator('[data-testid="stImage"]').filter(has_text="All 64 of C1's kernels")).to_have_count(
            2, timeout=WAIT_MS)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        browser.close()
