"""The simulation bar in a real browser: « Jour suivant » moves the date on every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.stack import Stack


def test_next_day_moves_the_date_and_comes_back_to_the_page(
    stack: Stack, page: Page, shot: Callable[[Page, str], Path]
) -> None:
    page.goto(stack.sync.url + "/")
    assert page.locator("#sim-date").inner_text() == "mardi 1er septembre 2026"
    assert page.locator("html").get_attribute("lang") == "fr"
    shot(page, "00-accueil")
    page.click("#sim-next-day")
    page.wait_for_url(stack.sync.url + "/")
    assert page.locator("#sim-date").inner_text() == "mercredi 2 septembre 2026"
    assert "Synchronisation nocturne n° 1 : réussie" in page.locator("#sim-last-run").inner_text()
    assert "Nous sommes le mercredi 2 septembre 2026" in page.locator(".flash").inner_text()
