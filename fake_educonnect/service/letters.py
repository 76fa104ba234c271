"""The school's notification letter: identifiant and temporary password, worded by situation.

The director prints it from the console (``Etablissement`` activation, or a reset); a copy goes
to the outbox. Both say the same thing: the school by its name (EduConnect's directory), the
parent's civility when the school knows it, the EduConnect address, and what the parent will do
at the next login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import Session, col

from edusim_common.clock import PARIS
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Letter,
)
from fake_educonnect.security import Passwords, new_temporary_password
from fake_educonnect.service import outbox
from fake_educonnect.service.activation import end_sessions
from fake_educonnect.service.console import check_not_deactivated
from fake_educonnect.service.schools import directory, school_label

EDUCONNECT_URL = "https://educonnect.education.gouv.fr"
"""Where a parent logs in (printed on the school's letters)."""

CIVILITY_FR = {"MME": "Madame", "M": "Monsieur"}


class LetterSituation(StrEnum):
    """Why the school prints a letter: it words the letter."""

    first_activation = "first_activation"
    """The account was never activated: the letter activates it (origin ``Etablissement``)."""
    reset = "reset"
    """An activated account's password was reset: the old one no longer works."""
    new_letter = "new_letter"
    """An activated account gets a temporary password beside its own."""


@dataclass(frozen=True)
class LetterWording:
    """What a school letter says, the same on paper and in the outbox copy."""

    situation: LetterSituation
    addressee: str
    """``Madame Anne Lefèvre``, or the names alone when the civility is unknown."""
    subject: str
    """After « Objet : »."""
    greeting: str
    before: tuple[str, ...]
    """The paragraphs before the identifiant and the temporary password."""
    valid_until: date
    """The temporary password's last day (Paris)."""
    validity: str
    """How long the temporary password lives, in words (« 3 mois »: ``letter_validity_days``)."""
    then: str
    """What the parent does at the login, after the validity sentence."""
    after: tuple[str, ...]
    """The paragraphs after that one."""
    school: str
    """« École élémentaire Jean Jaurès, Lille (0021593W) » (« École 0021593W » when EduConnect's
    directory does not know it): the letterhead, and under the signature."""
    signature: str = "La direction de l'école"

    def text(self, identifiant: str, temporary_password: str) -> str:
        """The letter as plain text (the outbox copy)."""
        credentials = f"Identifiant : {identifiant}\nMot de passe provisoire : {temporary_password}"
        until = self.valid_until.strftime("%d/%m/%Y")
        lasts = f"Ce mot de passe provisoire est valable jusqu'au {until} ({self.validity})."
        validity = f"{lasts} {self.then}"
        signed = f"{self.signature}\n{self.school}"
        parts = [self.greeting, *self.before, credentials, validity, *self.after, signed]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class IssuedLetter:
    """A school letter, the temporary password printed on it, and its wording."""

    letter: Letter
    temporary_password: str
    text: str
    wording: LetterWording


def civility_of(session: Session, account: Account, school_uai: str) -> str | None:
    """``MME`` or ``M`` from the account's live source records, the school's first; None when
    unknown or when the sources disagree."""
    rows = session.execute(
        select(col(AccountSource.school_uai), col(AccountSource.civility)).where(
            col(AccountSource.account_id) == account.id,
            col(AccountSource.deleted_at).is_(None),
            col(AccountSource.civility).is_not(None),
        )
    ).all()
    here = {civility for uai, civility in rows if uai == school_uai}
    known = here or {civility for _, civility in rows}
    return known.pop() if len(known) == 1 else None


def _has_children_to_confirm(session: Session, account: Account) -> bool:
    """Whether a child will be proposed at the parent's next login."""
    found = session.scalar(
        select(col(Attachment.id)).where(
            col(Attachment.account_id) == account.id,
            col(Attachment.status) == AttachmentStatus.proposed.value,
            col(Attachment.presented_at).is_(None),
        )
    )
    return found is not None


def validity_fr(days: int) -> str:
    """A letter's life in words: « 3 mois » for the default 92 days, else « 45 jours »."""
    months = round(days / 30.5)
    if months >= 1 and abs(days - months * 30.5) <= 2:
        return f"{months} mois"
    return f"{days} jour" if days == 1 else f"{days} jours"


def letter_wording(
    session: Session,
    account: Account,
    school_uai: str,
    valid_until: date,
    reset: bool,
    validity: str,
) -> LetterWording:
    """The letter's words for this parent and this situation.

    A never-activated account gets the activation letter (FranceConnect as the other way in);
    an active one is not told to activate again, nor to confirm children already attached.
    """
    civility = CIVILITY_FR.get(civility_of(session, account, school_uai) or "")
    known = directory(session, [school_uai]).get(school_uai)
    school = school_label(school_uai, known, with_uai=True)
    names = f"{account.prenom} {account.nom}"
    addressee = f"{civility} {names}" if civility else names
    greeting = f"{civility} {account.nom}," if civility else "Madame, Monsieur,"
    where = (
        f"sur {EDUCONNECT_URL} avec le profil « Responsable d'élève » et les informations "
        "ci-dessous :"
    )
    if account.state == AccountState.non_active.value:
        return LetterWording(
            situation=LetterSituation.first_activation,
            addressee=addressee,
            subject="votre compte EduConnect",
            greeting=greeting,
            before=(
                "Pour suivre la scolarité de vos enfants (espace numérique de travail, livret "
                "scolaire, démarches en ligne), activez votre compte EduConnect : connectez-vous "
                f"{where}",
            ),
            valid_until=valid_until,
            validity=validity,
            then="À la première connexion, vous choisirez votre propre mot de passe, puis vous "
            "confirmerez la date de naissance de chacun de vos enfants — attention, une erreur "
            "bloque le rattachement.",
            after=("Vous pouvez aussi activer votre compte avec FranceConnect.",),
            school=school,
        )
    if reset:
        situation = LetterSituation.reset
        subject = "votre compte EduConnect — nouveau mot de passe"
        opening = (
            "À la demande de l'école, le mot de passe de votre compte EduConnect a été "
            f"réinitialisé : l'ancien ne fonctionne plus. Connectez-vous {where}"
        )
    else:
        situation = LetterSituation.new_letter
        subject = "votre compte EduConnect — mot de passe provisoire"
        opening = (
            "Votre compte EduConnect est déjà activé. À la demande de l'école, voici un mot de "
            f"passe provisoire pour vous y connecter. Connectez-vous {where}"
        )
    then = "À la connexion, vous choisirez un nouveau mot de passe."
    if _has_children_to_confirm(session, account):
        then += (
            " Vous confirmerez ensuite la date de naissance de l'enfant ou des enfants qui vous "
            "seront proposés — attention, une erreur bloque le rattachement."
        )
    else:
        then += " Vos enfants déjà rattachés le restent."
    franceconnect = (
        "Vous pouvez toujours vous connecter avec FranceConnect."
        if account.franceconnect_sub
        else "Vous pouvez aussi vous connecter avec FranceConnect."
    )
    return LetterWording(
        situation=situation,
        addressee=addressee,
        subject=subject,
        greeting=greeting,
        before=(opening,),
        valid_until=valid_until,
        validity=validity,
        then=then,
        after=(franceconnect,),
        school=school,
    )


def issue_letter(
    session: Session,
    now: datetime,
    passwords: Passwords,
    account: Account,
    school_uai: str,
    validity: timedelta,
    reset: bool = False,
) -> IssuedLetter:
    """Print a notification letter: identifiant and a temporary password, valid ``validity``.

    Earlier unused letters die. With ``reset``, the current password stops working too, and the
    parent's open sessions end (a reset is what a school does when an account may be in the wrong
    hands). The letter is worded for its situation (first activation, reset, new letter). A
    deactivated account gets none (:class:`~fake_educonnect.service.console.AccountDeactivated`).
    """
    check_not_deactivated(account)
    valid_until = (now + validity).astimezone(PARIS).date()
    wording = letter_wording(
        session, account, school_uai, valid_until, reset, validity_fr(validity.days)
    )
    session.execute(
        update(Letter)
        .where(col(Letter.account_id) == account.id, col(Letter.used_at).is_(None))
        .values(expires_at=now)
    )
    temporary = new_temporary_password()
    letter = Letter(
        account_id=account.id or 0,
        school_uai=school_uai,
        password_hash=passwords.hash(temporary),
        created_at=now,
        expires_at=now + validity,
        situation=wording.situation.value,
    )
    session.add(letter)
    if reset:
        account.password_hash = None
        account.updated_at = now
        end_sessions(session, now, account)
    text = wording.text(account.identifiant, temporary)
    outbox.send(
        session,
        now,
        outbox.Channel.letter,
        f"{account.prenom} {account.nom}",
        "Notification de compte EduConnect",
        text,
        account_id=account.id,
        school_uai=school_uai,
    )
    session.flush()
    return IssuedLetter(letter, temporary, text, wording)
