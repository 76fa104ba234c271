"""At a phone's size (390 × 844), no page is wider than the screen: wide tables scroll alone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, ViewportSize

from tests.e2e.school import UAI, admit, open_school, parent_of
from tests.e2e.stack import Stack

PHONE: ViewportSize = {"width": 390, "height": 844}


def _phone(browser: Browser) -> Page:
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    context.set_default_timeout(15_000)
    return context.new_page()


def _too_wide(page: Page, url: str) -> tuple[str, int] | None:
    page.goto(url)
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return (url, width) if width > PHONE["width"] else None


def test_no_page_is_wider_than_a_phone(stack: Stack, browser: Browser) -> None:
    director = open_school(stack)
    for index, name in enumerate(("Léa", "Tom", "Inès")):  # each with a parent of her own
        pupil = admit(stack, director, name, "2019-02-03")
        parent_of(
            stack, director, pupil, prenom=f"Parent{'abc'[index]}", mobile=f"06 12 34 56 7{index}"
        )
    stack.next_day()
    sync, onde, console = _phone(browser), _phone(browser), _phone(browser)
    onde.goto(stack.onde.url + "/")
    onde.select_option("#f-uai", UAI)
    onde.click("#login-submit")
    console.goto(stack.educonnect.url + "/console")
    console.select_option("#f-uai", UAI)
    console.click("#console-login-submit")
    console.goto(stack.educonnect.url + "/console?nom=Martin")
    account = console.locator("#results a[href^='/console/comptes/']").first.get_attribute("href")
    pages = [
        (sync, stack.sync.url + path) for path in ("/", "/runs", "/runs/1", "/instantanes")
    ] + [
        (onde, stack.onde.url + "/"),
        (console, stack.educonnect.url + "/console?nom=Martin"),
        (console, f"{stack.educonnect.url}{account}"),
    ]
    wide = [found for page, url in pages if (found := _too_wide(page, url))]
    assert wide == []
