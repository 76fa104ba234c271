"""The parent's EduConnect pages: profile, login, activations, attachment, self-service."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import add_identity, import_items, letter_for, one_parent
from tests.pages.ec_steps import (
    activate_by_sms_pages,
    field_error,
    flash,
    form_error,
    hidden,
    input_value,
    login_pages,
    outbox_code,
    proposal_ids,
    text_of,
)

TWO_CHILDREN = [child("1"), child("2", prenoms="Tom", birth_date="2017-05-06")]


def test_profile_choice_and_login_screen_look_like_educonnect(ec: TestClient) -> None:
    home = ec.get("/")
    assert home.status_code == 200
    assert "Responsable d'élève" in text_of(home.text)
    assert 'id="profile-responsable"' in home.text
    assert 'id="profile-eleve"' in home.text
    login = text_of(ec.get("/login").text)
    for words in (
        "Je me connecte avec FranceConnect",
        "Je me connecte avec mon compte EduConnect",
        "Identifiant",
        "Mot de passe",
        "Identifiant oublié ?",
        "Mot de passe oublié ?",
        "Je n'ai pas de compte",
        "Identifiant au format p.nomXX",
    ):
        assert words in login, words
    assert "simulation" in text_of(ec.get("/eleve").text)
    assert "FranceConnect" in text_of(ec.get("/activation").text)


def test_sms_activation_then_first_login_attachment(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable(children=TWO_CHILDREN))
    identifiant = activate_by_sms_pages(ec)
    assert re.fullmatch(r"s\.martin\d{2}", identifiant)
    assert ec.cookies.get("ec_session")
    welcome = ec.get("/bienvenue").text
    assert 'href="/rattachement"' in welcome
    page = ec.get("/rattachement")
    assert "ne vous trompez pas" in text_of(page.text)
    lea, tom = proposal_ids(page.text)
    assert "Léa Martin" in text_of(page.text)
    assert "Tom Martin" in text_of(page.text)
    right = ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": "03/02/2019"})
    assert right.url.path == "/rattachement"
    assert flash(right.text) == "Léa est rattaché(e) à votre compte."
    assert proposal_ids(right.text) == [tom]
    wrong = ec.post(f"/rattachement/{tom}/confirmer", data={f"birth_date_{tom}": "01/01/2017"})
    assert wrong.url.path == "/me"
    message = flash(wrong.text) or ""
    assert message.startswith("Le rattachement de Tom est bloqué")
    assert "contactez l'école" in message
    mine = text_of(wrong.text)
    assert "Mes enfants" in mine
    assert identifiant in mine
    assert "compte activé par le parent lui-même (code par SMS), origine « Responsable »" in mine
    assert re.search(r'id="child-\d+"><td>Léa Martin', wrong.text)
    assert 'class="card blocked"' in wrong.text
    assert "Bloqué" in mine
    account = ec.get("/api/v1/accounts", headers=ec_service).json()["items"][0]
    assert (account["state"], account["origin"]) == ("active", "Responsable")


def test_sms_activation_answers_the_same_whatever_matched(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    known = ec.post(
        "/activation/sms", data={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    )
    unknown = ec.post(
        "/activation/sms", data={"nom": "Durand", "prenom": "Paul", "mobile": "0699999999"}
    )
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="request_id" value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "Si les informations saisies correspondent" in text_of(known.text)
    assert len(ec.get("/api/v1/outbox", headers=ec_service).json()) == 1


def test_sms_forms_say_what_is_wrong_next_to_the_field(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    bad = ec.post("/activation/sms", data={"nom": "", "prenom": "Sophie", "mobile": "12"})
    assert bad.status_code == 422
    assert field_error(bad.text, "nom") == "Ce champ est obligatoire."
    assert "Numéro de téléphone invalide" in (field_error(bad.text, "mobile") or "")
    assert input_value(bad.text, "prenom") == "Sophie"
    fixed = ec.post(
        "/activation/sms", data={"nom": "Martin", "prenom": "Sophie", "mobile": "0140000000"}
    )
    assert field_error(fixed.text, "mobile") == (
        "Ce n'est pas un numéro de mobile (en France : 06 ou 07)."
    )
    started = ec.post(
        "/activation/sms", data={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    )
    request_id = hidden(started.text, "request_id")
    code = outbox_code(ec)
    weak = ec.post(
        "/activation/sms/code",
        data={"request_id": request_id, "code": code, "password": "court", "password2": "autre"},
    )
    assert weak.status_code == 422
    assert "au moins 8 caractères" in (field_error(weak.text, "password") or "")
    assert field_error(weak.text, "password2") == "Les deux mots de passe ne sont pas identiques."
    assert hidden(weak.text, "request_id") == request_id
    # only the passwords were wrong: the code typed is kept (it was emptied), never the passwords
    assert input_value(weak.text, "code") == code
    assert input_value(weak.text, "password") == ""
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = ec.post(
        "/activation/sms/code",
        data={
            "request_id": request_id,
            "code": wrong_code,
            "password": "Soleil2026",
            "password2": "Soleil2026",
        },
    )
    assert wrong.status_code == 422
    assert field_error(wrong.text, "code") == "Code incorrect ou expiré."
    assert input_value(wrong.text, "code") == ""  # a refused code is not shown again
    letters = ec.post(
        "/activation/sms/code",
        data={"request_id": request_id, "code": "abc", "password": "x", "password2": "x"},
    )
    assert field_error(letters.text, "code") == "Le code compte 6 chiffres."
    still = ec.get("/api/v1/accounts", headers=ec_service).json()["items"][0]
    assert still["state"] == "non_active"  # nothing half-written


def test_login_errors_keep_the_identifiant_and_are_rate_limited(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    ec.post("/logout")
    empty = ec.post("/login", data={"identifiant": "", "password": ""})
    assert empty.status_code == 422
    assert field_error(empty.text, "identifiant") == "Ce champ est obligatoire."
    for _ in range(5):
        wrong = login_pages(ec, identifiant, "Mauvais2026")
        assert wrong.status_code == 401
        assert form_error(wrong.text) == "Identifiant ou mot de passe incorrect."
        assert input_value(wrong.text, "identifiant") == identifiant
        assert 'value="Mauvais2026"' not in wrong.text
    limited = login_pages(ec, identifiant, "Soleil2026")
    assert limited.status_code == 429
    assert form_error(limited.text) == "Trop de tentatives : réessayez plus tard."


def test_login_logout_and_session_cookie(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    ec.post("/logout")
    assert not ec.cookies.get("ec_session")
    assert ec.get("/me").url.path == "/login"
    logged = login_pages(ec, identifiant.upper(), "Soleil2026")
    assert logged.url.path in ("/me", "/rattachement")
    cookie = ec.cookies.get("ec_session") or ""
    api = ec.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"})
    assert api.json()["identifiant"] == identifiant  # the cookie holds the API's session token
    out = ec.post("/logout")
    assert out.url.path == "/"
    assert flash(out.text) == "Vous êtes déconnecté."
    assert ec.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    ec.cookies.set("ec_session", "garbage")
    assert ec.get("/me").url.path == "/login"


def test_school_letter_forces_a_new_password_then_attachment(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(ec, ec_service, mobile=None)
    letter = letter_for(ec, ec_service, created["account_id"])
    first = login_pages(ec, letter["identifiant"], letter["temporary_password"])
    assert first.url.path == "/mot-de-passe"
    assert 'id="forced-change"' in first.text
    assert 'name="current_password"' not in first.text
    assert ec.get("/me").url.path == "/mot-de-passe"  # nothing else before the new password
    weak = ec.post("/mot-de-passe", data={"password": "abcdefgh", "password2": "abcdefgh"})
    assert weak.status_code == 422
    assert "une lettre et un chiffre" in (field_error(weak.text, "password") or "")
    done = ec.post("/mot-de-passe", data={"password": "Nouveau2026", "password2": "Nouveau2026"})
    assert done.url.path == "/rattachement"
    activated = f"Votre compte est activé. Votre identifiant : {letter['identifiant']}."
    assert flash(done.text) == activated
    account = ec.get(f"/api/v1/accounts/{created['account_id']}", headers=ec_service).json()
    assert (account["state"], account["origin"]) == ("active", "Etablissement")
    ec.post("/logout")
    reused = login_pages(ec, letter["identifiant"], letter["temporary_password"])
    assert reused.status_code == 401


def test_voluntary_password_change_asks_the_current_one(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    page = ec.get("/mot-de-passe")
    assert 'name="current_password"' in page.text
    wrong = ec.post(
        "/mot-de-passe",
        data={"current_password": "Faux2026", "password": "Autre2026", "password2": "Autre2026"},
    )
    assert wrong.status_code == 422
    assert field_error(wrong.text, "current_password") == "Mot de passe actuel incorrect."
    done = ec.post(
        "/mot-de-passe",
        data={"current_password": "Soleil2026", "password": "Autre2026", "password2": "Autre2026"},
    )
    assert done.url.path == "/me"
    assert flash(done.text) == "Votre mot de passe a été changé."


def test_not_my_child_tells_the_school(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    asked = ec.post(f"/rattachement/{lea}/refuser")  # a confirmation page first
    assert f'id="refuse-confirm-{lea}"' in asked.text
    refused = ec.post(f"/rattachement/{lea}/refuser", data={"confirm": "1"})
    assert refused.url.path == "/me"
    assert "vous n'êtes pas le représentant légal de Léa" in (flash(refused.text) or "")
    assert ">Refusé</span>" in refused.text  # to the parent who refused, not « par le parent »
    told = ec.get("/api/v1/outbox", params={"channel": "school"}, headers=ec_service).json()
    assert told
    assert "Léa Martin" in told[-1]["body"]


def test_a_bad_birth_date_format_costs_no_try(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    for typed, message in (
        ("", "Ce champ est obligatoire."),
        ("31/02/2019", "Date invalide : utilisez le format JJ/MM/AAAA."),
        ("le 3 février", "Date invalide : utilisez le format JJ/MM/AAAA."),
    ):
        bad = ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": typed})
        assert bad.status_code == 422
        assert field_error(bad.text, f"birth_date_{lea}") == message
        assert input_value(bad.text, f"birth_date_{lea}") == typed
    right = ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": "3/2/2019"})
    assert flash(right.text) == "Léa est rattaché(e) à votre compte."
    for garbage in ("abc", "0", "99999999999", str(lea)):
        gone = ec.post(f"/rattachement/{garbage}/confirmer", data={})
        assert gone.status_code == 200
        assert gone.url.path == "/me"


def test_proposals_are_shown_at_one_login_only(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    skipped = ec.get("/me")
    assert "À confirmer maintenant" in text_of(skipped.text)
    ec.post("/logout")
    again = login_pages(ec, identifiant, "Soleil2026")
    assert again.url.path == "/me"
    assert "contactez l'école (procédure manuelle)" in text_of(again.text)
    assert ec.get("/rattachement").url.path == "/me"


def test_a_2d_parent_gets_the_new_child_proposed_at_the_next_login(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": "03/02/2019"})
    ec.post("/logout")
    import_items(
        ec,
        ec_service,
        responsable(children=[child("1"), child("3", prenoms="Zoé", school_uai=OTHER_SCHOOL)]),
    )
    logged = login_pages(ec, identifiant, "Soleil2026")
    assert logged.url.path == "/rattachement"
    assert "Zoé Martin" in text_of(logged.text)
    assert "Léa" not in text_of(logged.text)


def test_franceconnect_picker_code_then_direct_login(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    empty = ec.get("/franceconnect")
    assert 'id="fc-no-identity"' in empty.text
    import_items(ec, ec_service, responsable())
    add_identity(ec, ec_service)
    add_identity(ec, ec_service, sub="fc-inconnu", given_name="Paul", family_name="Inconnu")
    picker = ec.get("/franceconnect")
    assert "Sophie Marie MARTIN" in text_of(picker.text)
    assert "12/04/1985" in text_of(picker.text)
    assert "06 12 34 56 78" in text_of(picker.text)  # as every other page writes it, not E.164
    unknown = ec.post("/franceconnect", data={"sub": "fc-inconnu"})
    assert 'id="fc-no-account"' in unknown.text
    assert "Contactez l'école" in text_of(unknown.text)
    garbage = ec.post("/franceconnect", data={"sub": "<script>"})
    assert garbage.status_code == 422
    assert form_error(garbage.text) == "Choisissez une des identités proposées."
    sent = ec.post("/franceconnect", data={"sub": "fc-sophie"})
    assert "06 •• •• •• 78" in text_of(sent.text)
    wrong = ec.post(
        "/franceconnect/code",
        data={"request_id": hidden(sent.text, "request_id"), "code": "12345"},
    )
    assert wrong.status_code == 422
    assert field_error(wrong.text, "code") == "Le code compte 6 chiffres."
    done = ec.post(
        "/franceconnect/code",
        data={"request_id": hidden(sent.text, "request_id"), "code": outbox_code(ec)},
    )
    assert done.url.path == "/bienvenue"
    identifiant = re.search(r'id="identifiant">([^<]+)<', done.text)
    assert identifiant
    account = ec.get("/api/v1/accounts", headers=ec_service).json()["items"][0]
    assert account["origin"] == "FranceConnect"
    ec.post("/logout")
    again = ec.post("/franceconnect", data={"sub": "fc-sophie"})
    assert again.url.path in ("/rattachement", "/me")
    assert flash(again.text) == (
        f"Bienvenue. Votre identifiant EduConnect est {identifiant.group(1)}."
    )


def test_identifiant_oublie_answers_the_same_and_texts_only_a_match(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    ec.post("/logout")
    choices = text_of(ec.get("/identifiant-oublie").text)
    for words in ("Par SMS", "Par mail", "avec FranceConnect", "Je contacte l'école"):
        assert words in choices
    known = ec.post(
        "/identifiant-oublie/sms",
        data={"nom": "MARTIN", "prenom": "sophie", "mobile": "06 12 34 56 78"},
    )
    unknown = ec.post(
        "/identifiant-oublie/sms", data={"nom": "Durand", "prenom": "Paul", "mobile": "0611111111"}
    )
    assert known.status_code == unknown.status_code == 200
    assert text_of(known.text) == text_of(unknown.text)
    assert "Si ces informations correspondent à un compte EduConnect" in text_of(known.text)
    sms = ec.get("/api/v1/outbox", params={"recipient": "+33612345678"}, headers=ec_service)
    assert identifiant in sms.json()[-1]["body"]
    unconfirmed = ec.post(
        "/identifiant-oublie/email",
        data={"nom": "Martin", "prenom": "Sophie", "email": "sophie@example.org"},
    )
    assert text_of(unconfirmed.text) == text_of(known.text)
    emails = ec.get("/api/v1/outbox", params={"channel": "email"}, headers=ec_service).json()
    assert emails == []
    bad = ec.post("/identifiant-oublie/email", data={"nom": "M4rtin", "prenom": "", "email": "x"})
    assert bad.status_code == 422
    only_letters = "Seulement des lettres, espaces, traits d'union et apostrophes."
    assert field_error(bad.text, "nom") == only_letters
    assert field_error(bad.text, "prenom") == "Ce champ est obligatoire."
    assert field_error(bad.text, "email") == "Adresse électronique invalide."


def test_mot_de_passe_oublie_by_sms(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    ec.post("/logout")
    screen = text_of(ec.get("/mot-de-passe-oublie").text)
    assert "Je change mon mot de passe" in screen
    assert "Identifiant oublié ? →" in screen
    nobody = ec.post("/mot-de-passe-oublie", data={"identifiant": "x.nobody99", "channel": "sms"})
    asked = ec.post("/mot-de-passe-oublie", data={"identifiant": identifiant, "channel": "sms"})
    strip = re.compile(r'name="request_id" value="[^"]*"')
    assert strip.sub("", nobody.text) == strip.sub("", asked.text)
    bad_channel = ec.post("/mot-de-passe-oublie", data={"identifiant": identifiant, "channel": "x"})
    assert bad_channel.status_code == 422
    assert form_error(bad_channel.text) == "Choisissez « Par SMS » ou « Par mail »."
    done = ec.post(
        "/mot-de-passe-oublie/code",
        data={
            "request_id": hidden(asked.text, "request_id"),
            "code": outbox_code(ec),
            "password": "Nouveau2026",
            "password2": "Nouveau2026",
        },
    )
    assert done.url.path == "/login"
    assert "Votre mot de passe a été changé" in (flash(done.text) or "")
    assert login_pages(ec, identifiant, "Nouveau2026").url.path == "/me"


def test_confirm_an_email_then_identifiant_by_email(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    bad = ec.post("/me/email", data={"email": "pas-une-adresse"})
    assert bad.status_code == 422
    assert field_error(bad.text, "email") == "Adresse électronique invalide."
    sent = ec.post("/me/email", data={"email": "Sophie@Example.org"})
    assert 'id="email-code-sent"' in sent.text
    done = ec.post(
        "/me/email/code",
        data={
            "request_id": hidden(sent.text, "request_id"),
            "code": outbox_code(ec, "sophie@example.org"),
        },
    )
    assert done.url.path == "/me"
    assert "confirmée" in text_of(done.text)
    ec.post("/logout")
    ec.post(
        "/identifiant-oublie/email",
        data={"nom": "Martin", "prenom": "Sophie", "email": "sophie@example.org"},
    )
    mail = ec.get("/outbox", params={"destinataire": "sophie@example.org"}).text
    assert identifiant in text_of(mail)


def test_merge_another_account_by_its_letter(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    other = import_items(
        ec,
        ec_service,
        responsable(
            "202", mobile=None, email="s.m@example.org", school_uai=OTHER_SCHOOL,
            children=[child("5", prenoms="Noé", school_uai=OTHER_SCHOOL)],
        ),
    )[0]  # fmt: skip
    letter = letter_for(ec, ec_service, other["account_id"], OTHER_SCHOOL)
    activate_by_sms_pages(ec)
    wrong = ec.post("/me/ajouter", data={"identifiant": letter["identifiant"], "password": "x"})
    assert wrong.status_code == 422
    refused = "Identifiant ou mot de passe provisoire incorrect."
    assert field_error(wrong.text, "password") == refused
    assert input_value(wrong.text, "identifiant") == letter["identifiant"]
    merged = ec.post(
        "/me/ajouter",
        data={"identifiant": letter["identifiant"], "password": letter["temporary_password"]},
    )
    assert merged.url.path == "/me"
    assert "Noé Martin" in (flash(merged.text) or "")


def test_parent_pages_never_answer_500_on_garbage(ec: TestClient) -> None:
    for path, data in (
        ("/login", {"identifiant": "\x00" * 3, "password": "x" * 500}),
        ("/activation/sms", {"nom": "x" * 5000, "prenom": "\u202e", "mobile": "+" * 40}),
        ("/activation/sms/code", {"request_id": "", "code": "", "password": ""}),
        ("/franceconnect", {}),
        ("/franceconnect/code", {"request_id": "x" * 500, "code": "123456"}),
        ("/identifiant-oublie/sms", {"nom": "é", "prenom": "é", "mobile": "06"}),
        ("/mot-de-passe-oublie", {"identifiant": "x" * 500}),
        ("/mot-de-passe-oublie/code", {"request_id": "abcdefghijkl", "code": "123456"}),
        ("/rattachement/1/refuser", {}),
        ("/me/ajouter", {}),
    ):
        answer = ec.post(path, data=data)
        assert answer.status_code < 500, path
        assert "Traceback" not in answer.text
