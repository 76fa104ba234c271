"""A real headless browser (Debian's Chromium driven by Playwright) over a real stack.

`python3 dev.py test` installs Chromium when it can (root + apt-get). Where it cannot, the browser
tests are skipped with the reason — except under CI (``CI`` set), where a missing browser fails.
Screenshots go to ``build/screenshots/`` (``EDUSIM_SCREENSHOTS`` to change it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("EDUSIM_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("EDUSIM_SCREENSHOTS", ROOT / "build" / "screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM} (install Debian's 'chromium' package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own cookies) and page, French locale."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot under ``build/screenshots/NAME.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        target = SHOTS / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return take
