"""FranceConnect test identities for the demo school, so a trainer can show the FranceConnect path.

Four identities carry the pivot claims of demo parents — one per family, each a mother, father or
tutor with parental authority over an enrolled pupil and a mobile accepting SMS, taken in ONDE's
order — so that, once the first night's sync has created their accounts, picking one on
``/franceconnect`` matches the account and sends the confirmation code to the ONDE mobile. A
fifth matches nobody (« Contactez l'école »). The claims ONDE does not hold (second given name,
birth date, birthplace) are drawn from the demo seed: same demo, same identities.

They are stored through EduConnect's service layer, before the services start, and only once:
if a demo identity exists already, nothing is added (a parent renamed in ONDE since does not
bring a second set).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select
from sqlmodel import col

from edusim_common.db import read_session, unit_of_work
from edusim_common.text import fold_letters
from fake_educonnect.main import METADATA
from fake_educonnect.schemas import FranceConnectIdentityIn
from fake_educonnect.service.franceconnect import add_identities, has_identity_with_prefix
from fake_onde.models import ENROLLED_STATES, Pupil, PupilResponsable, Responsable
from fake_onde.seed import DEMO_SEED, DEMO_UAI

PREFIX = "demo-fc-"
"""Every demo identity's ``sub`` starts so (``demo-fc-<first name>-<family name>``)."""
MATCHED = 4
PARENT_LINKS = ("mere", "pere", "tuteur")
SECOND_NAMES = {
    "female": ("Marie", "Claire", "Anne", "Louise", "Hélène", "Jeanne"),
    "male": ("Jean", "Pierre", "Louis", "Marc", "Henri", "Paul"),
}
BIRTHPLACES = ("59350", "59512", "62041", "75056", "69123", "13055")
"""Lille, Roubaix, Arras, Paris, Lyon, Marseille (INSEE codes)."""
NOBODY = (
    ("Camille", "Fontaine", "female"),
    ("Gaëlle", "Rivière", "female"),
    ("Yannick", "Kerbrat", "male"),
)
"""A person the school does not know: the first of these ONDE does not hold."""


def _parents(onde: Engine) -> list[Responsable]:
    """The demo school's parents who will get an account and can be reached by SMS, ONDE order."""
    with read_session(onde) as session:
        query = (
            select(Responsable)
            .join(PupilResponsable, col(PupilResponsable.responsable_id) == col(Responsable.id))
            .join(Pupil, col(Pupil.id) == col(PupilResponsable.pupil_id))
            .where(
                col(Responsable.school_uai) == DEMO_UAI,
                col(Responsable.mobile).is_not(None),
                col(Responsable.accepts_sms).is_(True),
                col(PupilResponsable.lien).in_(PARENT_LINKS),
                col(PupilResponsable.autorite_parentale).is_(True),
                col(Pupil.state).in_([s.value for s in ENROLLED_STATES]),
            )
            .order_by(col(Responsable.id))
            .distinct()
        )
        return list(session.scalars(query))


def _claims(rng: random.Random, sub: str, prenom: str, nom: str, gender: str) -> dict[str, object]:
    born = date(1975, 1, 1) + timedelta(days=rng.randrange(18 * 365))
    return {
        "sub": sub,
        "given_name": f"{prenom} {rng.choice(SECOND_NAMES[gender])}",
        "family_name": nom,
        "birthdate": born,
        "gender": gender,
        "birthplace": rng.choice(BIRTHPLACES),
    }


def demo_identities(onde: Engine) -> list[FranceConnectIdentityIn]:
    """The demo's identities: ``MATCHED`` demo parents, then one person nobody knows."""
    rng = random.Random(DEMO_SEED)
    identities: list[FranceConnectIdentityIn] = []
    families: set[str] = set()
    for parent in _parents(onde):
        family = fold_letters(parent.nom)
        if family in families or len(parent.prenom.split()) != 1:
            continue  # one per family; a compound first name with a space would not match
        families.add(family)
        gender = "female" if parent.civility == "MME" else "male"
        sub = f"{PREFIX}{fold_letters(parent.prenom)}-{family}"
        claims = _claims(rng, sub, parent.prenom, parent.nom, gender)
        claims |= {"email": parent.email, "phone_number": parent.mobile}
        identities.append(FranceConnectIdentityIn.model_validate(claims))
        if len(identities) == MATCHED:
            break
    with read_session(onde) as session:
        names = session.scalars(select(col(Responsable.nom)).distinct())
        known = {fold_letters(n) for n in names}
    prenom, nom, gender = next(p for p in NOBODY if fold_letters(p[1]) not in known)
    sub = f"{PREFIX}{fold_letters(prenom)}-{fold_letters(nom)}"
    nobody = _claims(rng, sub, prenom, nom, gender)
    identities.append(FranceConnectIdentityIn.model_validate(nobody))
    return identities


def seed_demo_franceconnect(onde: Engine, educonnect: Engine, now: datetime) -> int:
    """Store the demo identities in EduConnect unless some are there already; how many added.

    ``educonnect`` is EduConnect's database (its tables are created if missing).
    """
    METADATA.create_all(educonnect)
    with read_session(educonnect) as session:
        if has_identity_with_prefix(session, PREFIX):
            return 0
    identities = demo_identities(onde)
    with unit_of_work(educonnect) as session:
        return add_identities(session, now, identities)
