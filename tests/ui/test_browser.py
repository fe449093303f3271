"""A real browser (headless Debian Chromium via Playwright): play a battle, vote, read the revealed names, and
screenshot every tab. Skipped with a reason when Chromium or Playwright is missing, but failed when CI=true."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import ROOT, LiveApp
from tests.ui.helpers import enabled_demo_names

pytestmark = pytest.mark.browser

TABS = ("battle", "side_by_side", "playground", "leaderboard", "metrics", "about")


def _browser_or_skip() -> tuple[Any, str]:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = "Chromium (no `chromium` on PATH)" if chromium is None else "Playwright" if not sync_playwright else None
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} is required when CI=true")
        pytest.skip(f"browser test needs {missing}")
    return sync_playwright, str(chromium)


def _screenshot_dirs(tmp_path: Path) -> list[Path]:
    dirs = [tmp_path / "screenshots"]
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        dirs.append(ROOT / "tests" / "ui" / "screenshots")
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    return dirs


def test_battle_in_a_real_browser(live_app: LiveApp, tmp_path: Path) -> None:
    sync_playwright, chromium = _browser_or_skip()
    dirs = _screenshot_dirs(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
            page.goto(live_app.url, wait_until="domcontentloaded")
            page.get_by_role("button", name="New battle").click()
            videos = page.locator(".arena-pair video")
            videos.first.wait_for(timeout=30_000)
            assert videos.count() == 2
            vote_a = page.get_by_role("button", name="A is better")
            assert vote_a.is_disabled()  # locked until both videos have played
            page.locator(".arena-play").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.arena-pair video')].every(v => v.ended)", timeout=30_000
            )
            page.wait_for_function(
                "() => !document.evaluate(\"//button[contains(., 'A is better')]\", document, null, 9, null)"
                ".singleNodeValue.disabled",
                timeout=15_000,
            )
            for path in dirs:
                page.screenshot(path=path / "battle_before_vote.png", full_page=True)
            motion = page.locator("fieldset, .block").filter(has_text="Motion").last
            motion.get_by_text("A = B").click()  # an aspect vote travels through the browser's own widgets
            vote_a.click()
            page.locator(".arena-reveal .name").first.wait_for(timeout=15_000)
            last = live_app.arena.leaderboard.rows()[-1]
            assert last["choice"] == "left" and last["aspects"] == {"motion": "tie"}, last
            names = page.locator(".arena-reveal .name").all_inner_texts()
            assert len(names) == 2 and set(names) <= set(enabled_demo_names())
            assert page.get_by_role("button", name="Next battle").is_visible()
            assert vote_a.is_disabled()
            for tab in TABS:
                if tab != "battle":
                    page.get_by_role("tab").nth(TABS.index(tab)).click()
                    page.wait_for_timeout(1500)
                if tab == "leaderboard":
                    by_language = page.locator("#arena-board-by").get_by_role("radio", name="Language / 语言")
                    by_language.click()  # boards by language (the verdicts' breakdown has a radio of that name too)
                    assert by_language.is_checked()
                    page.wait_for_timeout(1500)
                for path in dirs:
                    page.screenshot(path=path / f"{tab}.png", full_page=True)
            assert page.get_by_text("not in the list of choices").count() == 0

            zh = browser.new_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
            zh.goto(live_app.url, wait_until="domcontentloaded")
            zh.get_by_role("button", name="新对战").wait_for(timeout=30_000)
            for path in dirs:
                zh.screenshot(path=path / "battle_zh.png", full_page=True)
        finally:
            browser.close()
    assert sorted(f.name for f in dirs[0].iterdir()) == sorted(
        [f"{t}.png" for t in TABS] + ["battle_before_vote.png", "battle_zh.png"]
    )


def test_a_typed_prompt_shows_the_queue_progress_then_both_videos(live_app: LiveApp) -> None:
    sync_playwright, chromium = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(locale="en-US")
            page.goto(live_app.url, wait_until="domcontentloaded")
            page.get_by_label("…or type your own prompt (generated live)").fill("a green star spins slowly")
            page.get_by_role("button", name="New battle").click()
            page.locator(".arena-progress progress").wait_for(state="attached", timeout=30_000)  # at once
            page.locator(".arena-pair video").nth(1).wait_for(timeout=60_000)  # then both, polled by the timer
            assert page.locator(".arena-pair video").count() == 2
            assert page.locator(".arena-progress").count() == 0
        finally:
            browser.close()
