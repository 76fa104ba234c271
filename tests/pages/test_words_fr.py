"""The French words the three services' pages share: « de » elided, agreement, each code worded
once and the same in every service."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from edusim_common.web.render import make_templates
from edusim_common.web.words_fr import (
    ACCOUNT_STATE_FR,
    ATTACHMENT_FR,
    LIEN_FR,
    PUPIL_STATE_FR,
    accord,
    agree,
    de,
    pupil_state_fr,
    sex_of_civility,
    upper_first,
)
from fake_educonnect.models import AccountState, AttachmentStatus
from fake_onde.models import Lien, PupilState


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Anne", "d'Anne"),
        ("Anne Lefèvre", "d'Anne Lefèvre"),
        ("Paul", "de Paul"),
        ("Émile", "d'Émile"),
        ("Hugo", "d'Hugo"),
        ("Hélène", "d'Hélène"),
        ("Yves", "d'Yves"),
        ("Yann", "de Yann"),
        ("Œdipe", "d'Œdipe"),
        ("Inès", "d'Inès"),
        ("  Anne ", "d'Anne"),
        ("l'enfant", "de l'enfant"),
        ("un enfant", "d'un enfant"),
        ("", "de "),
    ],
)
def test_de_elides_before_a_vowel_or_a_mute_h(name: str, expected: str) -> None:
    assert de(name) == expected


@pytest.mark.parametrize(
    ("sex", "expected"),
    [("F", "Élève enregistrée, liée"), ("M", "Élève enregistré, lié"), (None, None)],
)
def test_agree_settles_each_e_in_brackets(sex: str | None, expected: str | None) -> None:
    text = "Élève enregistré(e), lié(e)"
    assert agree(text, sex) == (expected or text)


def test_sex_of_civility() -> None:
    assert sex_of_civility("MME") == "F"
    assert sex_of_civility("M") == "M"
    assert sex_of_civility(None) is None
    assert sex_of_civility("") is None
    assert sex_of_civility("Dr") is None


def test_accord_agrees_with_the_pupil_or_the_responsable() -> None:
    class Someone:
        def __init__(self, sex: str | None = None, civility: str | None = None) -> None:
            self.sex, self.civility = sex, civility

    assert accord(Someone(sex="F"), "admis", "admise") == "admise"
    assert accord(Someone(sex="M"), "admis", "admise") == "admis"
    assert accord(Someone(), "admis", "admise") == "admis"
    assert accord(Someone(civility="MME"), "enregistré", "enregistrée") == "enregistrée"
    assert accord(Someone(civility="M"), "enregistré", "enregistrée") == "enregistré"
    assert accord("F", "il", "elle") == "elle"
    assert accord("MME", "il", "elle") == "elle"
    assert accord("M", "il", "elle") == "il"
    assert accord(None, "Un élève", "Une élève") == "Un élève"


@pytest.mark.parametrize(
    ("state", "sex", "expected"),
    [
        ("admis", "F", "admise"),
        ("admis", "M", "admis"),
        ("admis", None, "admis(e)"),
        ("admis_definitif", "F", "admise définitivement"),
        ("admis_definitif", "M", "admis définitivement"),
        ("inscrit", "F", "inscrite"),
        ("radie", "M", "radié"),
        ("radie", None, "radié(e)"),
        ("en_attente", "F", "en attente"),
        ("some_new_state", "F", "some_new_state"),
    ],
)
def test_a_pupil_state_agrees_with_the_pupil(state: str, sex: str | None, expected: str) -> None:
    assert pupil_state_fr(state, sex) == expected


def test_upper_first_keeps_the_rest_as_written() -> None:
    assert upper_first("aide sociale à l'enfance") == "Aide sociale à l'enfance"
    assert upper_first("compte ENT") == "Compte ENT"
    assert upper_first("Établissement") == "Établissement"
    assert upper_first("") == ""


def test_every_code_of_the_services_is_worded_in_lower_case() -> None:
    tables = [
        (LIEN_FR, Lien),
        (PUPIL_STATE_FR, PupilState),
        (ACCOUNT_STATE_FR, AccountState),
        (ATTACHMENT_FR, AttachmentStatus),
    ]
    for words, codes in tables:
        assert set(words) == {code.value for code in codes}
        assert all(word[:1] == word[:1].lower() for word in words.values())


def test_every_service_s_templates_have_the_shared_words(tmp_path: Path) -> None:
    (tmp_path / "words.html").write_text(
        "{{ LIEN_FR['ase']|upper_first }} · {{ ACCOUNT_STATE_FR['active'] }} · "
        "{{ ATTACHMENT_FR['refused'] }} · {{ pupil_state_fr('admis', 'F') }} · "
        "{{ 'Anne'|de }} · {{ accord('MME', 'il', 'elle') }}",
        encoding="utf-8",
    )
    env = make_templates(tmp_path, "onde").env
    assert html.unescape(env.get_template("words.html").render()) == (
        "Aide sociale à l'enfance (ASE) · activé · refusé par le parent · admise · d'Anne · elle"
    )
