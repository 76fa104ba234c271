"""ONDE data: tables, and the create/update/public models of the API."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, EmailStr, StringConstraints, field_validator
from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from edusim_common.db import UTCDateTime
from edusim_common.types import PersonName, ShortText
from fake_onde.identifiers import normalize_ine, normalize_insee, normalize_phone, normalize_uai

Uai = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, max_length=16),
    AfterValidator(normalize_uai),
]
Ine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, max_length=20),
    AfterValidator(normalize_ine),
]
InseeCode = Annotated[str, StringConstraints(max_length=10), AfterValidator(normalize_insee)]
Mobile = Annotated[
    str, StringConstraints(max_length=30), AfterValidator(lambda v: normalize_phone(v, mobile=True))
]
Phone = Annotated[str, StringConstraints(max_length=30), AfterValidator(normalize_phone)]
PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]

MAX_ID = 2**31 - 1
"""Largest record id: ids and sequence numbers are INTEGER columns (32-bit on PostgreSQL)."""


NEVER_REUSED: Final = {"sqlite_autoincrement": True}
"""Table option of the tables whose ids leave ONDE (classes, pupils, responsables, links).

EduConnect knows a parent and a child by their ONDE id (``onde:<id>``): an id given again after a
deletion would hand the deleted person's account to a newcomer. SQLite reuses the highest id once
its row is deleted, unless the table is AUTOINCREMENT; a PostgreSQL sequence never goes back. The
seed, which sets ids itself, starts after both the highest row and the sequence
(``fake_onde.seed``). The change log is never deleted from: its ``seq`` cannot come back.
"""


class OndeModel(SQLModel, registry=registry()):
    """Base of ONDE's tables: their own metadata, apart from the other services'."""


#: ``STRICT_INPUT`` (a field the API does not know is refused) for ONDE's request bodies,
#: typed as SQLModel wants its configuration.
STRICT_BODY = SQLModelConfig(extra="forbid")


class Level(StrEnum):
    """School levels, from toute petite section to CM2."""

    TPS = "TPS"
    PS = "PS"
    MS = "MS"
    GS = "GS"
    CP = "CP"
    CE1 = "CE1"
    CE2 = "CE2"
    CM1 = "CM1"
    CM2 = "CM2"


class PupilState(StrEnum):
    """Administrative states of a pupil."""

    en_attente = "en_attente"
    inscrit = "inscrit"
    admis = "admis"
    admis_definitif = "admis_definitif"
    radie = "radie"


ENROLLED_STATES = frozenset({PupilState.admis, PupilState.admis_definitif})
"""States in which a pupil counts as enrolled and so reaches EduConnect (assumption)."""


class Sex(StrEnum):
    """Sex as recorded in ONDE."""

    F = "F"
    M = "M"


class Civility(StrEnum):
    """Civility of a responsable."""

    M = "M"
    MME = "MME"


class Lien(StrEnum):
    """The link between a responsable and a pupil."""

    mere = "mere"
    pere = "pere"
    tuteur = "tuteur"
    ase = "ase"
    autre_membre_famille = "autre_membre_famille"
    famille_accueil = "famille_accueil"
    autre = "autre"


# ---------------------------------------------------------------- schools


class SchoolBase(OndeModel):
    name: ShortText = Field(schema_extra={"examples": ["École élémentaire Jean Jaurès"]})
    commune: ShortText = Field(schema_extra={"examples": ["Lille"]})
    academie: ShortText = Field(schema_extra={"examples": ["Lille"]})


class School(OndeModel, table=True):
    uai: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=120)
    commune: str = Field(max_length=120)
    academie: str = Field(max_length=120)
    created_at: datetime = Field(sa_type=UTCDateTime)


class SchoolCreate(SchoolBase):
    model_config = STRICT_BODY
    uai: Uai = Field(schema_extra={"examples": ["0021593W"]})


class SchoolPublic(SchoolBase):
    uai: str
    created_at: datetime


class SchoolCreated(SchoolPublic):
    director_token: str = Field(description="Bearer token of this school's director.")


# ---------------------------------------------------------------- classes


class ClassCreate(OndeModel):
    model_config = STRICT_BODY
    label: ShortText = Field(schema_extra={"examples": ["CE1-CE2 Mme Martin"]})
    levels: list[Level] = Field(min_length=1, max_length=9, schema_extra={"examples": [["CE1"]]})

    @field_validator("levels")
    @classmethod
    def _distinct_levels(cls, value: list[Level]) -> list[Level]:
        return sorted(set(value), key=list(Level).index)


class SchoolClass(OndeModel, table=True):
    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_uai", "label"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    school_uai: str = Field(foreign_key="school.uai", index=True, max_length=8)
    label: str = Field(max_length=120)
    levels: str = Field(max_length=60, description="Comma-separated level codes.")
    created_at: datetime = Field(sa_type=UTCDateTime)


class ClassPublic(OndeModel):
    id: int
    school_uai: str
    label: str
    levels: list[Level]


# ---------------------------------------------------------------- pupils


class PupilFields(OndeModel):
    nom: PersonName = Field(schema_extra={"examples": ["N'Diaye-Éloi"]})
    prenoms: PersonName = Field(schema_extra={"examples": ["Léa Marie"]})
    sex: Sex
    birth_date: date = Field(schema_extra={"examples": ["2018-03-14"]})
    birth_place: InseeCode = Field(schema_extra={"examples": ["59350"]})
    level: Level
    class_id: int | None = Field(default=None, ge=1, le=MAX_ID, schema_extra={"examples": [None]})


class PupilCreate(PupilFields):
    model_config = STRICT_BODY
    ine: Ine | None = Field(
        default=None, description="Given by the national base; generated when absent."
    )
    state: PupilState = Field(
        default=PupilState.inscrit,
        description="Initial state: `en_attente`, `inscrit` or `admis` (duplicate check applies).",
    )


class PupilUpdate(OndeModel):
    model_config = STRICT_BODY
    nom: PersonName | None = None
    prenoms: PersonName | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    birth_place: InseeCode | None = None
    level: Level | None = None
    class_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class Pupil(OndeModel, table=True):
    __table_args__ = (
        Index("ix_pupil_school_id", "school_uai", "id"),
        Index("ix_pupil_identity", "identity_key"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    ine: str = Field(unique=True, max_length=11)
    nom: str = Field(max_length=80)
    prenoms: str = Field(max_length=80)
    sex: str = Field(sa_type=String(1))
    birth_date: date
    birth_place: str = Field(max_length=5)
    school_uai: str = Field(foreign_key="school.uai", max_length=8)
    class_id: int | None = Field(default=None, foreign_key="school_class.id", index=True)
    level: str = Field(max_length=3)
    state: str = Field(max_length=20)
    # Folded keys are unbounded: folding can lengthen a name ("ﬃ" -> "ffi", "ﷺ" -> 18 letters).
    nom_search: str = Field(sa_type=Text, index=True)
    prenoms_search: str = Field(sa_type=Text)
    identity_key: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PupilPublic(OndeModel):
    id: int
    ine: str
    nom: str
    prenoms: str
    sex: Sex
    birth_date: date
    birth_place: str
    school_uai: str
    class_id: int | None
    level: Level
    state: PupilState
    enrolled: bool = Field(description="`admis` or `admis_definitif`: reaches EduConnect.")
    created_at: datetime
    updated_at: datetime


class StateChange(OndeModel):
    model_config = STRICT_BODY
    state: PupilState = Field(schema_extra={"examples": ["admis"]})


# ---------------------------------------------------------------- responsables


class Address(OndeModel):
    line1: ShortText = Field(schema_extra={"examples": ["12 rue des Tilleuls"]})
    line2: ShortText | None = None
    postal_code: PostalCode = Field(schema_extra={"examples": ["59000"]})
    city: ShortText = Field(schema_extra={"examples": ["Lille"]})
    country: ShortText = "France"


class ResponsableFields(OndeModel):
    civility: Civility
    nom: PersonName = Field(schema_extra={"examples": ["Martin"]})
    prenom: PersonName = Field(schema_extra={"examples": ["Sophie"]})
    mobile: Mobile | None = Field(default=None, schema_extra={"examples": ["06 12 34 56 78"]})
    accepts_sms: bool = True
    home_phone: Phone | None = Field(default=None, schema_extra={"examples": ["03 20 12 34 56"]})
    work_phone: Phone | None = None
    email: EmailStr | None = Field(default=None, max_length=254)
    address: Address | None = None


class ResponsableCreate(ResponsableFields):
    model_config = STRICT_BODY
    pass


class ResponsableUpdate(OndeModel):
    model_config = STRICT_BODY
    civility: Civility | None = None
    nom: PersonName | None = None
    prenom: PersonName | None = None
    mobile: Mobile | None = None
    accepts_sms: bool | None = None
    home_phone: Phone | None = None
    work_phone: Phone | None = None
    email: EmailStr | None = Field(default=None, max_length=254)
    address: Address | None = None


class Responsable(OndeModel, table=True):
    __table_args__ = (Index("ix_responsable_school_id", "school_uai", "id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    school_uai: str = Field(foreign_key="school.uai", max_length=8)
    civility: str = Field(max_length=3)
    nom: str = Field(max_length=80)
    prenom: str = Field(max_length=80)
    mobile: str | None = Field(default=None, max_length=20)
    accepts_sms: bool = True
    home_phone: str | None = Field(default=None, max_length=20)
    work_phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    address_line1: str | None = Field(default=None, max_length=120)
    address_line2: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=5)
    city: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, max_length=120)
    # Folded keys are unbounded: folding can lengthen a name ("ﬃ" -> "ffi", "ﷺ" -> 18 letters).
    nom_search: str = Field(sa_type=Text, index=True)
    prenom_search: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ResponsablePublic(OndeModel):
    id: int
    school_uai: str
    civility: Civility
    nom: str
    prenom: str
    mobile: str | None
    accepts_sms: bool
    home_phone: str | None
    work_phone: str | None
    email: str | None
    address: Address | None
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- links


class LinkFields(OndeModel):
    lien: Lien = Field(schema_extra={"examples": ["mere"]})
    autorite_parentale: bool = Field(default=True, description="Holds parental authority.")


class LinkCreate(LinkFields):
    model_config = STRICT_BODY
    responsable_id: int = Field(ge=1, le=MAX_ID)


class LinkUpdate(OndeModel):
    model_config = STRICT_BODY
    lien: Lien | None = None
    autorite_parentale: bool | None = None


class PupilResponsable(OndeModel, table=True):
    __tablename__ = "pupil_responsable"
    __table_args__ = (UniqueConstraint("pupil_id", "responsable_id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id")
    responsable_id: int = Field(foreign_key="responsable.id", index=True)
    lien: str = Field(max_length=30)
    autorite_parentale: bool = True
    school_uai: str = Field(max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime)


class LinkPublic(LinkFields):
    id: int
    pupil_id: int
    responsable_id: int
    school_uai: str


# ---------------------------------------------------------------- change log


class EntityKind(StrEnum):
    """What a change is about."""

    school = "school"
    school_class = "class"
    pupil = "pupil"
    responsable = "responsable"
    link = "link"


class ChangeOp(StrEnum):
    """What happened."""

    create = "create"
    update = "update"
    state = "state"
    delete = "delete"


class Change(OndeModel, table=True):
    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_school_seq", "school_uai", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    entity: str = Field(max_length=16)
    op: str = Field(max_length=8)
    entity_id: str = Field(max_length=32)
    school_uai: str = Field(max_length=8)
    data: str = Field(sa_type=Text, description="JSON snapshot of the entity after the change.")
