"""The API's input and output models (the tables are in ``models``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StrictBool, StringConstraints, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from edusim_common.types import (
    MAX_CHILDREN_PER_RESPONSABLE,
    STRICT_INPUT,
    Email,
    PersonName,
    ShortText,
)
from edusim_common.uai import Uai as KeyedUai
from fake_educonnect.models import AccountState, AttachmentStatus, Origin, SourceKind

Uai = Annotated[str, StringConstraints(pattern=r"^[0-9]{7}[A-Z]$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
SourceId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.:-]+$")]
# Typed text that is looked up or stored: no control characters (PostgreSQL text cannot hold NUL).
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
IdentifiantIn = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=_PRINTABLE)]
FranceConnectSub = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[\w.:-]+$")
]


class Lien(StrEnum):
    """The link between a responsable and a pupil, as ONDE records it."""

    mere = "mere"
    pere = "pere"
    tuteur = "tuteur"
    ase = "ase"
    autre_membre_famille = "autre_membre_famille"
    famille_accueil = "famille_accueil"
    autre = "autre"


# The import's items are slotted pydantic dataclasses, not models: validated and documented the
# same way, built sooner (up to 50,000 items to a batch; docs/benchmarks.md). Their field metadata
# goes in ``Annotated``: given as a default (``= Field(...)``), it would move the field to the
# front of the documented properties.
@pydantic_dataclass(slots=True, kw_only=True, config=STRICT_INPUT)
class ChildIn:
    """A child linked to the responsable in the source, with the link's attributes."""

    source_id: Annotated[SourceId, Field(examples=["17"])]
    ine: Annotated[
        str, StringConstraints(pattern=r"^[0-9A-Z]{11}$"), Field(examples=["0123456789K"])
    ]
    nom: PersonName
    prenoms: PersonName
    birth_date: date
    school_uai: Uai
    level: Annotated[str, StringConstraints(min_length=1, max_length=8), Field(examples=["CP"])]
    class_label: Annotated[str, StringConstraints(max_length=120)] | None = None
    lien: Lien
    autorite_parentale: bool
    enrolled: Annotated[bool, Field(description="`admis` or `admis_definitif` in ONDE.")]


@pydantic_dataclass(slots=True, kw_only=True, config=STRICT_INPUT)
class ResponsableIn:
    """A source responsable in full, as it stands now: the import is an idempotent upsert."""

    source: SourceKind = SourceKind.onde
    source_id: Annotated[SourceId, Field(examples=["101"])]
    school_uai: Uai
    civility: Annotated[str, StringConstraints(pattern=r"^(M|MME)$")] | None = None
    nom: PersonName
    prenom: PersonName
    mobile: E164 | None = None
    accepts_sms: bool = True
    email: Annotated[Email | None, Field(max_length=254)] = None
    children: Annotated[list[ChildIn], Field(max_length=MAX_CHILDREN_PER_RESPONSABLE)] = field(
        default_factory=list
    )
    deleted: Annotated[bool, Field(description="The responsable was deleted in the source.")] = (
        False
    )


MAX_IMPORT_BATCH = 50_000
"""The most responsables one import call takes (``SYNC_BATCH_SIZE`` may go up to it)."""


class ImportBatch(BaseModel):
    """A batch of responsables to upsert."""

    model_config = STRICT_INPUT

    items: list[ResponsableIn] = Field(min_length=1, max_length=MAX_IMPORT_BATCH)
    allow_deactivation: bool = Field(
        default=True,
        description="When false, accounts left without an enrolled child are reported "
        "(`deactivation_pending`) but not deactivated.",
    )
    dry_run: bool = Field(
        default=False, description="Answer what would change, and change nothing."
    )


class Outcome(StrEnum):
    """What the import did with one item."""

    created = "created"
    matched = "matched"
    updated = "updated"
    unchanged = "unchanged"
    excluded = "excluded"
    failed = "failed"


# A plain dataclass, not a pydantic model: the import sets these fields a few times per
# responsable, and a model would validate each creation and each assignment (a few per cent of an
# import, under cProfile). The import's answer is encoded from these straight to JSON
# (``BatchReport.json``); ``ImportReport`` documents it. (The docstring is the API's description.)
@dataclass(slots=True)
class ImportResult:
    """The answer for one item."""

    source_id: str
    outcome: Outcome
    account_id: int | None = None
    identifiant: str | None = None
    proposals_added: int = 0
    links_removed: int = 0
    deactivated: bool = False
    deactivation_pending: bool = False
    restored: bool = False
    reasons: list[str] = field(default_factory=list)


class ImportReport(BaseModel):
    """The answer for a batch: one result per item, in order, and the totals."""

    results: list[ImportResult]
    counts: dict[str, int]


class AccountPublic(BaseModel):
    """An account as the director console and the service API show it."""

    id: int
    identifiant: str
    nom: str
    prenom: str
    mobile: str | None
    email: str | None
    email_confirmed: bool
    state: AccountState
    origin: Origin | None
    created_at: datetime
    activated_at: datetime | None
    last_login_at: datetime | None


class SourcePublic(BaseModel):
    """A source record an account stands for."""

    source: SourceKind
    source_id: str
    school_uai: str
    nom: str
    prenom: str
    mobile: str | None
    accepts_sms: bool
    email: str | None
    deleted_at: datetime | None = Field(
        default=None, description="When the source deleted this responsable, if it did."
    )


class ChildPublic(BaseModel):
    """A child as shown with an attachment (never the birth date: it is the check)."""

    id: int = Field(description="EduConnect's own id of the child: not ONDE's pupil id.")
    source: SourceKind = Field(description="Where the child comes from: ONDE (1D) or SIECLE (2D).")
    source_id: str = Field(
        description="The child's id in its source: for `onde`, the pupil's id in ONDE's API.",
        examples=["17"],
    )
    ine: str
    nom: str
    prenoms: str
    school_uai: str
    level: str
    class_label: str | None
    degree: str
    enrolled: bool


class AttachmentPublic(BaseModel):
    """An attachment and where it stands."""

    id: int
    child: ChildPublic
    status: AttachmentStatus
    lien: str
    tries_left: int
    proposed_at: datetime | None
    presented_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None


class AccountDetail(AccountPublic):
    """An account with its sources and attachments."""

    sources: list[SourcePublic]
    attachments: list[AttachmentPublic]


class OutboxPublic(BaseModel):
    """A stored message."""

    id: int
    channel: str
    recipient: str
    account_id: int | None
    school_uai: str | None
    subject: str
    body: str
    created_at: datetime


Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
RequestId = Annotated[str, StringConstraints(min_length=10, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MobileIn = Annotated[str, StringConstraints(min_length=1, max_length=30)]


class SmsActivationStart(BaseModel):
    """Who the parent says they are, and the mobile they gave the school."""

    model_config = STRICT_INPUT

    nom: PersonName = Field(examples=["Martin"])
    prenom: PersonName = Field(examples=["Sophie"])
    mobile: MobileIn = Field(examples=["06 12 34 56 78"])


class RequestAccepted(BaseModel):
    """The same answer whether or not anything matched."""

    request_id: str
    message: str


class SmsActivationFinish(BaseModel):
    """The code received by SMS and the password the parent chooses."""

    model_config = STRICT_INPUT

    request_id: RequestId
    code: Code = Field(examples=["123456"])
    password: Password = Field(examples=["Soleil2026"])


class LoginIn(BaseModel):
    """An identifiant and a password (or a school letter's temporary password)."""

    model_config = STRICT_INPUT

    identifiant: IdentifiantIn = Field(examples=["s.martin42"])
    password: Password


class SessionOpened(BaseModel):
    """A parent's session: send the token as `Authorization: Bearer <token>`."""

    session_token: str
    identifiant: str
    step: str | None = Field(
        description="`change_password`, `attachment` (children to confirm) or null."
    )
    expires_at: datetime


class PasswordChange(BaseModel):
    """A new password. The current one is asked unless a school letter was just used (the
    forced change) or the account has none yet (opened with FranceConnect: ``Me.has_password``
    is false, and the parent's own session proves her)."""

    model_config = STRICT_INPUT

    new_password: Password
    current_password: Password | None = None


class Me(BaseModel):
    """The logged-in parent."""

    identifiant: str
    nom: str
    prenom: str
    state: AccountState
    origin: Origin | None
    email: str | None
    email_confirmed: bool
    has_password: bool = Field(
        description="False for an account opened with FranceConnect and no password yet: "
        "`POST /me/password` then asks no `current_password`."
    )
    step: str | None


class Proposal(BaseModel):
    """A child proposed for attachment at this login."""

    attachment_id: int
    prenoms: str
    nom: str
    school_uai: str
    level: str
    tries_left: int


class BirthDateIn(BaseModel):
    """The child's birth date, as the parent knows it."""

    model_config = STRICT_INPUT

    birth_date: date = Field(examples=["2019-02-03"])


class DecisionOut(BaseModel):
    """What became of a proposal."""

    attachment_id: int
    decision: str = Field(description="`attached`, `wrong_date`, `blocked` or `refused`.")
    status: AttachmentStatus
    tries_left: int
    message: str
    step: str | None


class FranceConnectIdentityIn(BaseModel):
    """A test identity of the fake FranceConnect (pivot claims, email and phone)."""

    model_config = STRICT_INPUT

    sub: FranceConnectSub
    given_name: Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=_PRINTABLE)]
    family_name: PersonName
    birthdate: date
    gender: Annotated[str, StringConstraints(pattern=r"^(female|male)$")]
    birthplace: Annotated[str, StringConstraints(pattern=r"^([0-9]{5}|2[AB][0-9]{3})$")] | None = (
        None
    )
    birthcountry: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")] = "99100"
    email: EmailStr | None = None
    phone_number: E164 | None = None


class FranceConnectIdentityPublic(FranceConnectIdentityIn):
    """A stored test identity."""

    email: str | None = None


class FranceConnectLogin(BaseModel):
    """The identity chosen on the fake FranceConnect page."""

    model_config = STRICT_INPUT

    sub: FranceConnectSub


class FranceConnectResult(BaseModel):
    """Where the FranceConnect return leads."""

    status: str = Field(description="`logged_in`, `code_sent` or `no_account`.")
    message: str
    session: SessionOpened | None = None
    request_id: str | None = None
    masked_mobile: str | None = None


class CodeIn(BaseModel):
    """A code received by SMS or email."""

    model_config = STRICT_INPUT

    request_id: RequestId
    code: Code


class AccountSummary(AccountPublic):
    """One line of the console's search: the account and its children at this school."""

    children: list[str] = Field(description="`Prénom NOM: status` for each child of the school.")


class LetterOut(BaseModel):
    """A printed notification letter."""

    identifiant: str
    temporary_password: str
    expires_at: datetime
    text: str


class ResetIn(BaseModel):
    """Confirm the reset of a self-activated account."""

    model_config = STRICT_INPUT

    confirm: StrictBool = False  # a reset done by accident cannot be undone: no "yes" or 1


class StatsOut(BaseModel):
    """Activation statistics of one school."""

    school_uai: str
    accounts: int
    activated: int
    activation_rate: float
    by_state: dict[str, int]
    by_origin: dict[str, int]
    attachments: dict[str, int]


class DirectorToken(BaseModel):
    """A school director's bearer token for the console."""

    school_uai: str
    director_token: str


class IdentifiantBySms(BaseModel):
    """Forgotten identifiant, by SMS."""

    model_config = STRICT_INPUT

    nom: PersonName
    prenom: PersonName
    mobile: MobileIn


class IdentifiantByEmail(BaseModel):
    """Forgotten identifiant, by confirmed email."""

    model_config = STRICT_INPUT

    nom: PersonName
    prenom: PersonName
    email: EmailStr


class PasswordResetStart(BaseModel):
    """Forgotten password: the identifiant and the channel for the code."""

    model_config = STRICT_INPUT

    identifiant: IdentifiantIn
    channel: Annotated[str, StringConstraints(pattern=r"^(sms|email)$")] = "sms"


class PasswordResetFinish(BaseModel):
    """The code received and the new password."""

    model_config = STRICT_INPUT

    request_id: RequestId
    code: Code
    new_password: Password


class EmailIn(BaseModel):
    """A new email address to confirm."""

    model_config = STRICT_INPUT

    email: EmailStr


class Message(BaseModel):
    """A plain answer."""

    message: str


class MergeIn(BaseModel):
    """The other account's identifiant and the temporary password of its school letter."""

    model_config = STRICT_INPUT

    identifiant: IdentifiantIn
    password: Password


class MergeOut(BaseModel):
    """The children added from the other account."""

    added: list[str]
    message: str


class StatementOut(BaseModel):
    """One plain-words fact with a stable code."""

    code: str
    text: str


class Explanation(BaseModel):
    """Where a responsable or an account stands, and why."""

    subject: str
    account: AccountPublic | None
    statements: list[StatementOut]


class SiecleChild(BaseModel):
    """A secondary-school (2D) pupil of a SIECLE fixture."""

    model_config = STRICT_INPUT

    source_id: SourceId
    ine: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{11}$")]
    nom: PersonName
    prenoms: PersonName
    birth_date: date
    school_uai: Uai
    level: Annotated[str, StringConstraints(min_length=1, max_length=8)] = Field(examples=["5E"])
    lien: Lien = Lien.autre
    school_name: ShortText | None = Field(
        default=None,
        examples=["Collège Jean Moulin"],
        description="The school's name, for EduConnect's directory (pages and letters).",
    )
    school_commune: ShortText | None = Field(default=None, examples=["Arras"])


class SiecleAccount(BaseModel):
    """A parent who already has an active account through a 2D child (or earlier LSU use)."""

    model_config = STRICT_INPUT

    source_id: SourceId
    nom: PersonName
    prenom: PersonName
    mobile: E164 | None = None
    email: EmailStr | None = None
    email_confirmed: bool = True
    password: Password | None = Field(default=None, description="To log in with it in tests.")
    origin: Origin = Origin.Responsable
    children: list[SiecleChild] = Field(min_length=1, max_length=20)


class SiecleBatch(BaseModel):
    """SIECLE fixtures to load."""

    model_config = STRICT_INPUT

    items: list[SiecleAccount] = Field(min_length=1, max_length=5000)


MAX_SCHOOLS_PER_CALL = 5000
"""The most schools one ``PUT /schools`` takes (ONDE's largest page of schools)."""


class SchoolIn(BaseModel):
    """A school as its source (ONDE) names it (its UAI's key letter checked: the directory
    keeps every school it is given)."""

    model_config = STRICT_INPUT

    uai: KeyedUai = Field(examples=["0021593W"])
    name: ShortText = Field(examples=["École élémentaire Jean Jaurès"])
    commune: ShortText = Field(examples=["Lille"])


class SchoolBatch(BaseModel):
    """Schools to record in EduConnect's directory (each UAI once)."""

    model_config = STRICT_INPUT

    items: list[SchoolIn] = Field(min_length=1, max_length=MAX_SCHOOLS_PER_CALL)

    @field_validator("items")
    @classmethod
    def _each_uai_once(cls, items: list[SchoolIn]) -> list[SchoolIn]:
        seen: set[str] = set()
        for school in items:
            if school.uai in seen:
                raise ValueError(f"UAI {school.uai} is given twice")
            seen.add(school.uai)
        return items


class SchoolsReport(BaseModel):
    """What ``PUT /schools`` did: schools added, renamed (name or commune), left as they were."""

    created: int
    updated: int
    unchanged: int


class SchoolPublic(BaseModel):
    """A school of EduConnect's directory."""

    uai: str
    name: str
    commune: str | None
    updated_at: datetime
