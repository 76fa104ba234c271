"""The parameters of each step's action (one key per step; see docs/scenarios.md)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator
from pydantic import model_validator as model_check

from edusim.scenario.fields import Lien, Origin, Strict, Text, VarName
from fake_onde.identifiers import normalize_uai


class ResponsableSpec(Strict):
    """A responsable of the pupil: a new one (civility, names…), or ``ref`` to a known one."""

    as_: VarName | None = Field(default=None, alias="as")
    ref: VarName | None = None
    civility: Literal["M", "MME"] | None = None
    nom: Text | None = None
    prenom: Text | None = None
    mobile: Text | None = None
    accepts_sms: bool = True
    email: Text | None = None
    lien: Lien = "mere"
    autorite_parentale: bool = True

    @model_check(mode="after")
    def _new_or_known(self) -> ResponsableSpec:
        if self.ref is not None:
            given = {"as_", "civility", "nom", "prenom", "mobile", "email"} & self.model_fields_set
            if given:
                raise ValueError(f"with ref, give only lien and autorite_parentale (not {given})")
        elif self.civility is None or self.nom is None or self.prenom is None:
            raise ValueError("a new responsable needs civility, nom and prenom (or ref: a name)")
        return self


class Admit(Strict):
    """The director registers and admits a pupil in ONDE, with responsables and their links."""

    as_: VarName = Field(alias="as")
    nom: Text
    prenoms: Text
    sex: Literal["F", "M"]
    birth_date: date
    birth_place: Text = "59350"
    level: Literal["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"] = "CP"
    state: Literal["inscrit", "admis"] = "admis"
    responsables: list[ResponsableSpec] = Field(default_factory=list, max_length=10)


class EditResponsable(Strict):
    """The director changes a responsable in ONDE; ``null`` clears a field."""

    responsable: VarName
    mobile: Text | None = None
    accepts_sms: bool | None = None
    email: Text | None = None
    nom: Text | None = None
    prenom: Text | None = None

    @model_check(mode="after")
    def _something(self) -> EditResponsable:
        if not self.model_fields_set - {"responsable"}:
            raise ValueError("give at least one field to change (mobile, email, accepts_sms…)")
        return self


class PupilRef(Strict):
    """A pupil of the scenario."""

    pupil: VarName


class NextDay(Strict):
    """« Jour suivant »: to 08:00 the next morning, each night's sync running on the way."""

    days: int = Field(default=1, ge=1, le=366)


class Advance(Strict):
    """Move the clock forward; every night crossed runs its sync."""

    days: float = Field(default=0, ge=0, le=366)
    hours: float = Field(default=0, ge=0, le=10000)
    minutes: float = Field(default=0, ge=0, le=100000)


class RunSync(Strict):
    """Run the sync now (marked ``manual``: it breaks J+1 on purpose), or a full one."""

    full: bool = False


class ParentRef(Strict):
    """A parent of the scenario (an ONDE responsable or a SIECLE parent)."""

    parent: VarName


class ActivateSms(ParentRef):
    """The parent activates alone: names + mobile, then the SMS code and a password."""

    mobile: Text | None = Field(default=None, description="Default: the mobile given in ONDE.")
    password: Text = "Soleil2026"


class ActivateFranceConnect(ParentRef):
    """The parent comes with FranceConnect, then confirms with the code sent to the ONDE mobile."""

    birthdate: date = date(1985, 4, 12)
    phone: Text | None = None


class ActivateLetter(ParentRef):
    """The director prints a letter; first login with it, then a new password is chosen."""

    new_password: Text = "Rentree2026"


class Login(ParentRef):
    """The parent logs in: identifiant + password, or through FranceConnect."""

    via: Literal["password", "franceconnect"] = "password"
    password: Text | None = Field(default=None, description="Default: the last one chosen.")
    new_password: Text | None = Field(
        default=None, description="Chosen at once if the login asks for a new password."
    )


class ChildDecision(ParentRef):
    """One child of one parent: confirm, refuse, unblock, attach by hand."""

    child: VarName


class ConfirmBirthDate(ChildDecision):
    """The parent confirms a proposed child with a birth date (``right``, ``wrong`` or a date)."""

    birth_date: date | Literal["right", "wrong"] = "right"


class ResetPassword(ParentRef):
    """The director resets the password (a new letter); self-activated origins need ``confirm``."""

    confirm: bool = False


class SiecleChild(Strict):
    """A secondary-school child of a SIECLE parent."""

    as_: VarName = Field(alias="as")
    nom: Text
    prenoms: Text
    birth_date: date
    level: Text = "6E"
    school_uai: str = "0590117G"

    @field_validator("school_uai")
    @classmethod
    def _valid_uai(cls, value: str) -> str:
        return normalize_uai(value)


class SiecleAccount(Strict):
    """A parent who already has an active EduConnect account through a 2D child (SIECLE)."""

    as_: VarName = Field(alias="as")
    nom: Text
    prenom: Text
    mobile: Text | None = None
    email: Text | None = None
    password: Text = "College2025"
    origin: Origin = "Responsable"
    children: list[SiecleChild] = Field(min_length=1, max_length=10)


ACTIONS: dict[str, str] = {
    "admit": "admettre un élève et ses responsables (ONDE)",
    "edit_responsable": "modifier un responsable (ONDE)",
    "strike_off": "radier un élève (ONDE)",
    "readmit": "réinscrire et réadmettre un élève radié (ONDE)",
    "next_day": "jour suivant (la synchronisation de la nuit passe)",
    "advance": "avancer l'horloge",
    "sync": "lancer la synchronisation maintenant",
    "siecle_account": "un parent qui a déjà un compte (enfant au collège)",
    "activate_sms": "activation par SMS",
    "activate_franceconnect": "activation par FranceConnect",
    "activate_letter": "activation par courrier de l'école",
    "login": "connexion du parent",
    "confirm_birth_date": "confirmer la date de naissance d'un enfant proposé",
    "not_my_child": "« je ne suis pas le représentant légal »",
    "unblock": "la direction débloque un rattachement",
    "attach_by_hand": "la direction rattache à la main",
    "reset_password": "la direction réinitialise le mot de passe",
    "console": "ce que la direction voit dans la console",
    "explain": "pourquoi ce parent en est là",
}
DEFAULTABLE = {"next_day", "advance", "sync"}  # ``next_day:`` alone means ``next_day: {}``
