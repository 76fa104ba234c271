"""A whole lifecycle through the pages, in a real browser, as a trainer would show it.

The director admits Léa with her mother in ONDE; the same day EduConnect knows nothing (J+1); after
« Jour suivant » the mother activates by SMS, reading her code in the outbox page, enters a wrong
birth date and sees the block; the director unblocks in the EduConnect console; at her next login
the mother confirms the right date and Léa is attached. Screenshots of each main page are saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.school import UAI, open_school
from tests.e2e.stack import Stack

MOBILE = "06 12 34 56 78"
PASSWORD = "Soleil2026"
Shot = Callable[[Page, str], Path]


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def director_admits_lea(onde: Page, stack: Stack, shot: Shot) -> None:
    onde.goto(stack.onde.url + "/")
    onde.select_option("#f-uai", UAI)
    onde.click("#login-submit")
    expect(onde.locator("#school-uai")).to_contain_text(UAI)
    onde.goto(stack.onde.url + "/eleves/admettre")
    onde.fill("#f-nom", "Martin")
    onde.fill("#f-prenoms", "Léa")
    onde.select_option("#f-sex", "F")
    onde.fill("#f-birth_date", "2019-03-14")
    onde.fill("#f-birth_place", "59350")
    onde.select_option("#f-level", "CP")
    onde.select_option("#f-r1_civility", "MME")
    onde.fill("#f-r1_nom", "Martin")
    onde.fill("#f-r1_prenom", "Sophie")
    onde.select_option("#f-r1_lien", "mere")
    onde.check("#f-r1_autorite")
    onde.fill("#f-r1_mobile", MOBILE)
    onde.check("#f-r1_accepts_sms")
    shot(onde, "01-onde-admission-formulaire")
    onde.click("#admit-submit")
    expect(onde.locator(".flash")).to_contain_text("Visible dans EduConnect demain")
    expect(onde.locator("#pupil-state")).to_contain_text("admis")
    shot(onde, "02-onde-fiche-eleve")


def parent_asks_for_a_code(parent: Page, stack: Stack) -> None:
    parent.goto(stack.educonnect.url + "/activation/sms")
    parent.fill("#f-nom", "Martin")
    parent.fill("#f-prenom", "Sophie")
    parent.fill("#f-mobile", MOBILE)
    parent.click("#sms-submit")
    expect(parent.locator("#code-form")).to_be_visible()  # the same answer, match or not


def trainer_reads_the_code(trainer: Page, stack: Stack) -> str | None:
    trainer.goto(stack.educonnect.url + "/outbox")
    trainer.fill("#f-destinataire", MOBILE)
    trainer.click("#outbox-submit")
    codes = trainer.locator("#messages code.otp")
    return codes.first.inner_text().strip() if codes.count() else None


def test_admission_to_attachment_through_the_pages(
    stack: Stack, browser: Browser, shot: Shot
) -> None:
    open_school(stack)
    onde, parent, trainer, console = (_new_page(browser) for _ in range(4))

    director_admits_lea(onde, stack, shot)

    # Day D: EduConnect does not know Sophie yet — no code is sent.
    parent_asks_for_a_code(parent, stack)
    assert trainer_reads_the_code(trainer, stack) is None
    expect(trainer.locator("#no-message")).to_be_visible()

    # « Jour suivant »: the night's sync carries the admission.
    onde.click("#sim-next-day")
    expect(onde.locator("#sim-date")).to_have_text("mercredi 2 septembre 2026")
    expect(onde.locator("#sim-last-run")).to_contain_text("réussie")
    expect(onde.locator("#sim-last-run")).to_contain_text("1 compte créé")

    # Day D+1: activation by SMS, the code read in the outbox page.
    parent.goto(stack.educonnect.url + "/")
    shot(parent, "03-educonnect-profil")
    parent_asks_for_a_code(parent, stack)
    code = trainer_reads_the_code(trainer, stack)
    assert code is not None
    assert re.fullmatch(r"[0-9]{6}", code)
    shot(trainer, "04-boite-d-envoi")
    parent.fill("#f-code", code)
    parent.fill("#f-password", PASSWORD)
    parent.fill("#f-password2", PASSWORD)
    parent.click("#code-submit")
    identifiant = parent.locator("#identifiant").inner_text().strip()
    assert re.fullmatch(r"s\.martin[0-9]+", identifiant), identifiant
    shot(parent, "05-educonnect-compte-active")
    parent.click("#continue")

    # First login: a wrong birth date blocks Léa's attachment.
    parent.wait_for_url(re.compile(r"/rattachement$"))
    date_field = parent.locator("input[id^='f-birth_date_']")
    attachment_id = (date_field.get_attribute("id") or "").removeprefix("f-birth_date_")
    date_field.fill("15/03/2019")
    shot(parent, "06-educonnect-rattachement")
    parent.click(f"#confirm-submit-{attachment_id}")
    expect(parent.locator("body")).to_contain_text("bloqué")
    parent.goto(stack.educonnect.url + "/me")
    expect(parent.locator(".blocked")).to_contain_text("Léa")
    shot(parent, "07-educonnect-rattachement-bloque")

    # The director unblocks in the EduConnect console.
    console.goto(stack.educonnect.url + "/console")
    console.select_option("#f-uai", UAI)
    console.click("#console-login-submit")
    console.goto(stack.educonnect.url + "/console?nom=Martin")
    console.locator("#results a[href^='/console/comptes/']").first.click()
    expect(console.locator("#detail-identifiant")).to_have_text(identifiant)
    expect(console.locator("#detail-origin")).to_contain_text("Responsable")
    shot(console, "08-console-compte")
    console.click(f"#unblock-{attachment_id}")
    expect(console.locator(f"#unblock-{attachment_id}")).to_have_count(0)

    # Next login: Léa is proposed again; the right date attaches her.
    parent.click("#logout-submit")
    parent.goto(stack.educonnect.url + "/login")
    parent.fill("#f-identifiant", identifiant)
    parent.fill("#f-password", PASSWORD)
    parent.click("#login-submit")
    parent.wait_for_url(re.compile(r"/rattachement$"))
    parent.fill(f"#f-birth_date_{attachment_id}", "14/03/2019")
    parent.click(f"#confirm-submit-{attachment_id}")
    parent.goto(stack.educonnect.url + "/me")
    expect(parent.locator("#children")).to_contain_text("Léa")
    shot(parent, "09-educonnect-mes-enfants")

    # What the director sees afterwards, and the night's report.
    console.reload()
    expect(console.locator("#detail-last-login")).not_to_have_text("—")
    trainer.goto(stack.sync.url + "/runs")
    expect(trainer.locator("#runs")).to_contain_text("nocturne")
    shot(trainer, "10-synchronisations")
