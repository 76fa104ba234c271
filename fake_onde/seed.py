"""Fast, reproducible generation of realistic ONDE data: schools, classes, pupils, families.

* Name, street and phone pools are drawn once (Faker ``fr_FR`` and neighbours, seeded); every row
  is then sampled from them with one ``random.Random``: same seed, same starting database, same
  data. Faker is never called per row.
* Rows are written batch by batch with ``executemany`` (one transaction per batch, memory
  bounded), primary keys assigned here so that links and change-log snapshots need no round trip.
  Every entity also gets its ``create`` row in the change log, exactly as the API would write it.
* Identifiers are valid and unique: an INE and a mobile number are bijections of the record's id
  (so they never collide with other seeded rows); rows recorded through the API are checked.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any, Final

import orjson
import phonenumbers
from faker import Faker
from sqlalchemy import Column, Connection, Engine, Table, func, select, text

from edusim_common.bulk import copy_values
from edusim_common.clock import as_utc
from edusim_common.db import unit_of_work
from edusim_common.text import fold_letters, fold_search
from fake_onde.identifiers import make_ine, make_uai
from fake_onde.models import (
    Change,
    ChangeOp,
    EntityKind,
    Level,
    Pupil,
    PupilResponsable,
    PupilState,
    Responsable,
    School,
    SchoolClass,
)
from fake_onde.service.changes import change_rows
from fake_onde.service.pupils import identity_key
from fake_onde.service.snapshots import (
    class_dict,
    link_dict,
    pupil_dict,
    responsable_dict,
    school_dict,
)

DEMO_UAI: Final = "0021593W"
DEMO_NAME: Final = "École élémentaire Jean Jaurès"
DEMO_SEED: Final = 20260901
COMPANION_UAI: Final = make_uai(591234)
"""A maternelle next to the demo school: the younger siblings of some demo pupils go there."""

BATCH_PUPILS: Final = 20_000
"""Pupils per transaction: ~100,000 rows with their families and change-log rows."""

SQLITE_CACHE_KIB: Final = 256 * 1024
"""Page cache of the seeding connection on SQLite (its default is 2 MB)."""

SCHOOL_TABLE: Final[Table] = School.__table__  # type: ignore[attr-defined]
CLASS_TABLE: Final[Table] = SchoolClass.__table__  # type: ignore[attr-defined]
PUPIL_TABLE: Final[Table] = Pupil.__table__  # type: ignore[attr-defined]
RESPONSABLE_TABLE: Final[Table] = Responsable.__table__  # type: ignore[attr-defined]
LINK_TABLE: Final[Table] = PupilResponsable.__table__  # type: ignore[attr-defined]
CHANGE_TABLE: Final[Table] = Change.__table__  # type: ignore[attr-defined]
ID_TABLES: Final = (CLASS_TABLE, PUPIL_TABLE, RESPONSABLE_TABLE, LINK_TABLE)
"""The tables whose ids the seed gives itself (each AUTOINCREMENT on SQLite)."""

Row = dict[str, Any]


@dataclass(frozen=True)
class SeedReport:
    """How many rows a seeding wrote, and how long it took."""

    schools: int
    classes: int
    pupils: int
    responsables: int
    links: int
    changes: int
    seconds: float

    @property
    def rows(self) -> int:
        """Every row written, change log included."""
        return (
            self.schools
            + self.classes
            + self.pupils
            + self.responsables
            + self.links
            + self.changes
        )


# ---------------------------------------------------------------- static reference data

# (commune, postal code, INSEE code, académie, landline region digit)
CITIES: Final = (
    ("Lille", "59000", "59350", "Lille", "3"),
    ("Roubaix", "59100", "59512", "Lille", "3"),
    ("Tourcoing", "59200", "59599", "Lille", "3"),
    ("Villeneuve-d'Ascq", "59650", "59009", "Lille", "3"),
    ("Arras", "62000", "62041", "Lille", "3"),
    ("Amiens", "80000", "80021", "Amiens", "3"),
    ("Reims", "51100", "51454", "Reims", "3"),
    ("Paris", "75011", "75111", "Paris", "1"),
    ("Paris", "75018", "75118", "Paris", "1"),
    ("Montreuil", "93100", "93048", "Créteil", "1"),
    ("Saint-Denis", "93200", "93066", "Créteil", "1"),
    ("Créteil", "94000", "94028", "Créteil", "1"),
    ("L'Haÿ-les-Roses", "94240", "94038", "Créteil", "1"),
    ("Versailles", "78000", "78646", "Versailles", "1"),
    ("Nanterre", "92000", "92050", "Versailles", "1"),
    ("Rouen", "76000", "76540", "Normandie", "2"),
    ("Le Havre", "76600", "76351", "Normandie", "2"),
    ("Caen", "14000", "14118", "Normandie", "2"),
    ("Rennes", "35000", "35238", "Rennes", "2"),
    ("Brest", "29200", "29019", "Rennes", "2"),
    ("Nantes", "44000", "44109", "Nantes", "2"),
    ("Angers", "49000", "49007", "Nantes", "2"),
    ("Le Mans", "72000", "72181", "Nantes", "2"),
    ("Tours", "37000", "37261", "Orléans-Tours", "2"),
    ("Orléans", "45000", "45234", "Orléans-Tours", "2"),
    ("Strasbourg", "67000", "67482", "Strasbourg", "3"),
    ("Metz", "57000", "57463", "Nancy-Metz", "3"),
    ("Nancy", "54000", "54395", "Nancy-Metz", "3"),
    ("Dijon", "21000", "21231", "Dijon", "3"),
    ("Besançon", "25000", "25056", "Besançon", "3"),
    ("Lyon", "69003", "69383", "Lyon", "4"),
    ("Villeurbanne", "69100", "69266", "Lyon", "4"),
    ("Saint-Étienne", "42000", "42218", "Lyon", "4"),
    ("Grenoble", "38000", "38185", "Grenoble", "4"),
    ("Clermont-Ferrand", "63000", "63113", "Clermont-Ferrand", "4"),
    ("Marseille", "13005", "13205", "Aix-Marseille", "4"),
    ("Aix-en-Provence", "13100", "13001", "Aix-Marseille", "4"),
    ("Nice", "06000", "06088", "Nice", "4"),
    ("Montpellier", "34000", "34172", "Montpellier", "4"),
    ("Perpignan", "66000", "66136", "Montpellier", "4"),
    ("Toulouse", "31000", "31555", "Toulouse", "5"),
    ("Bordeaux", "33000", "33063", "Bordeaux", "5"),
    ("Pau", "64000", "64445", "Bordeaux", "5"),
    ("Limoges", "87000", "87085", "Limoges", "5"),
    ("Poitiers", "86000", "86194", "Poitiers", "5"),
)
City = tuple[str, str, str, str, str]

# Department codes of metropolitan France (Corsica's 2A/2B left out: 5 digits everywhere).
DEPARTMENTS: Final = tuple(f"{n:02d}" for n in range(1, 96) if n != 20)

EXTRA_LAST_NAMES: Final = (
    "N'Diaye", "Diallo", "Traoré", "Koné", "Camara", "Diop", "Sow", "Coulibaly", "Benali",
    "Haddad", "Ben Ahmed", "Bouzid", "Belkacem", "Mansouri", "Cherif", "Amrani", "El Idrissi",
    "Nguyen", "Tran", "Pham", "Le Goff", "Le Gall", "Le Floch", "Kerbrat", "Quéré", "Le Goff-Éloi",
    "D'Almeida", "D'Angelo", "Da Costa", "Dos Santos", "Lefèvre", "Lemaître", "Bénard", "Hervé",
    "Saint-Martin", "De La Fontaine", "Éloi", "Müller", "Ørsted", "O'Brien", "Yilmaz", "Kaya",
)  # fmt: skip
CHILD_FIRST_F: Final = (
    "Jade", "Louise", "Ambre", "Alba", "Emma", "Rose", "Alice", "Romy", "Anna", "Lina", "Mia",
    "Léna", "Chloé", "Inès", "Zoé", "Léa", "Manon", "Camille", "Eva", "Nina", "Agathe", "Iris",
    "Margaux", "Juliette", "Maëlys", "Éloïse", "Anaïs", "Aïcha", "Yasmine", "Nour", "Inaya", "Aya",
    "Fatoumata", "Maryam", "Héloïse", "Clémence", "Thaïs", "Noémie", "Salomé", "Lou", "Capucine",
)  # fmt: skip
CHILD_FIRST_M: Final = (
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Liam", "Sacha", "Gabin", "Nathan", "Aaron", "Paul", "Tom", "Éthan", "Timothée",
    "Noé", "Mohamed", "Ibrahim", "Moussa", "Ayoub", "Ilyès", "Isaac", "Côme", "Marius", "Théo",
    "Victor", "Martin", "Axel", "Naël", "Eliott", "Kylian", "Mathéo", "Valentin", "Jean-Baptiste",
)  # fmt: skip
FAMOUS: Final = (
    "Jean Jaurès", "Jules Ferry", "Victor Hugo", "Jean Moulin", "Louise Michel", "Marie Curie",
    "Jacques Prévert", "Paul Bert", "Condorcet", "Pasteur", "Jean de La Fontaine", "George Sand",
    "Simone Veil", "Lucie Aubrac", "Anatole France", "Marcel Pagnol", "Jean Macé", "Voltaire",
    "Les Tilleuls", "Le Petit Prince", "Saint-Exupéry", "Olympe de Gouges", "Pablo Picasso",
)  # fmt: skip
LINE2: Final = ("Appartement 12", "Bâtiment B", "Résidence les Tilleuls", "Escalier C", "Apt 4")
EMAIL_DOMAINS: Final = ("example.org", "example.com", "example.net")
SCHOOL_KINDS: Final = (
    ("maternelle", (Level.PS, Level.MS, Level.GS), 0.35),
    ("élémentaire", (Level.CP, Level.CE1, Level.CE2, Level.CM1, Level.CM2), 0.45),
    ("primaire", tuple(Level)[1:], 0.20),
)
LEVEL_AGE: Final = {level: age for age, level in enumerate(Level, start=2)}
"""Age reached during the calendar year the school year starts in: CP 6, TPS 2 … CM2 10."""

STATES: Final = (
    (PupilState.admis_definitif.value, 0.50),
    (PupilState.admis.value, 0.42),
    (PupilState.inscrit.value, 0.04),
    (PupilState.en_attente.value, 0.02),
    (PupilState.radie.value, 0.02),
)
FAMILY_KINDS: Final = (
    ("couple", 0.70),
    ("separated", 0.14),
    ("single_mother", 0.075),
    ("single_father", 0.015),
    ("tutor", 0.02),
    ("ase", 0.02),
    ("foster", 0.03),
)


# ---------------------------------------------------------------- pools (Faker, once)


def _valid_name(value: str) -> bool:
    return bool(value) and value[0].isalpha() and all(c.isalpha() or c in " -'" for c in value)


def _zipf(names: Sequence[str], head: int) -> list[str]:
    """Repeat the first (most frequent) names so that uniform sampling favours them."""
    pool: list[str] = []
    for rank, name in enumerate(names):
        pool.extend([name] * max(1, head // (1 + rank // 10)))
    return pool


@cache
def _phone_prefixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Three-digit national prefixes (after +33) valid as mobiles, and as landlines."""
    mobiles: list[str] = []
    landlines: list[str] = []
    for prefix in range(100, 1000):
        number = phonenumbers.parse(f"+33{prefix}123456", "FR")
        if not phonenumbers.is_valid_number(number):
            continue
        kind = phonenumbers.number_type(number)
        if kind == phonenumbers.PhoneNumberType.MOBILE and prefix // 100 in (6, 7):
            mobiles.append(str(prefix))
        elif kind == phonenumbers.PhoneNumberType.FIXED_LINE or prefix // 100 == 9:
            landlines.append(str(prefix))
    return tuple(mobiles), tuple(landlines)


def _coprime(start: int, modulus: int) -> int:
    while math.gcd(start, modulus) != 1:
        start += 1
    return start


@dataclass(frozen=True)
class Pools:
    """Everything sampled per row, drawn once from a seeded Faker."""

    last_names: list[str]
    parent_f: list[str]
    parent_m: list[str]
    child_f: list[str]
    child_m: list[str]
    streets: list[str]
    mobile_prefixes: tuple[str, ...]
    landline_prefixes: dict[str, list[str]]


def build_pools(seed: int) -> Pools:
    """Name and street pools: French first, with the neighbours' names a French register holds."""
    fakers = {loc: Faker(loc) for loc in ("fr_FR", "fr_CA", "fr_CH", "it_IT", "es_ES", "pt_PT")}
    people = {loc: f.provider("faker.providers.person") for loc, f in fakers.items()}

    def names(loc: str, attr: str) -> list[str]:
        return [n for n in getattr(people[loc], attr) if _valid_name(n)]

    last = _zipf(names("fr_FR", "last_names"), 30) + list(EXTRA_LAST_NAMES) * 3
    for loc in ("fr_CA", "fr_CH", "it_IT", "es_ES", "pt_PT"):
        last += names(loc, "last_names")
    parent_f = _zipf(names("fr_FR", "first_names_female"), 8) + names("fr_CA", "first_names_female")
    parent_m = _zipf(names("fr_FR", "first_names_male"), 8) + names("fr_CA", "first_names_male")
    for loc in ("it_IT", "pt_PT", "fr_CH"):
        parent_f += names(loc, "first_names_female")[:40]
        parent_m += names(loc, "first_names_male")[:40]
    child_f = list(CHILD_FIRST_F) * 4 + names("fr_FR", "first_names_female")
    child_m = list(CHILD_FIRST_M) * 4 + names("fr_FR", "first_names_male")
    street_faker = fakers["fr_FR"]
    street_faker.seed_instance(seed)
    streets = sorted({street_faker.street_name() for _ in range(3000)})
    mobiles, landlines = _phone_prefixes()
    by_region: dict[str, list[str]] = {}
    for prefix in landlines:
        by_region.setdefault(prefix[0], []).append(prefix)
    return Pools(last, parent_f, parent_m, child_f, child_m, streets, mobiles, by_region)


# ---------------------------------------------------------------- the generator


@dataclass
class _Ids:
    """The next primary key of each table."""

    school_class: int = 1
    pupil: int = 1
    responsable: int = 1
    link: int = 1


@dataclass
class _SchoolPlan:
    uai: str
    name: str
    city: City
    levels: tuple[Level, ...]
    pupils: int
    class_by_level: dict[Level, list[int]] = field(default_factory=dict)


@dataclass
class _Person:
    """One real person; recorded once per school where they have a child (ONDE is per school)."""

    civility: str
    nom: str
    prenom: str
    mobile: str | None
    accepts_sms: bool
    home_phone: str | None
    work_phone: str | None
    email: str | None
    address: tuple[str, str | None, str, str] | None
    wants_mobile: bool = False


@dataclass(frozen=True)
class FamilySpec:
    """What a generated family looks like; random, or scripted for the demo school."""

    kind: str = "couple"
    children: int = 1
    extra: str | None = None  # "grandparent" | "step"
    other_school_child: bool = False
    nom: str | None = None
    prenoms: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    shared_email: bool = False
    no_mobile: bool = False
    no_sms: bool = False
    twins: bool = False


@dataclass
class SeedBatch:
    """Rows ready for the database, in foreign-key order, with their change-log rows."""

    schools: list[Row] = field(default_factory=list)
    classes: list[Row] = field(default_factory=list)
    pupils: list[Row] = field(default_factory=list)
    responsables: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)

    def tables(self) -> list[tuple[Table, list[Row]]]:
        """(table, rows) pairs in the order they must be inserted."""
        return [
            (SCHOOL_TABLE, self.schools),
            (CLASS_TABLE, self.classes),
            (PUPIL_TABLE, self.pupils),
            (RESPONSABLE_TABLE, self.responsables),
            (LINK_TABLE, self.links),
            (CHANGE_TABLE, self.changes),
        ]


def _processor(column: Column[Any], conn_dialect: Any) -> Callable[[Any], Any]:
    """The dialect's own conversion of a Python value, so stored values match the ORM's."""
    bind = column.type.dialect_impl(conn_dialect).bind_processor(conn_dialect)
    return bind if bind is not None else (lambda value: value)


class Generator:
    """Generates schools, classes and families; ids come from ``ids``, randomness from ``rng``."""

    def __init__(self, dialect: Any, now: datetime, rng: random.Random, pools: Pools) -> None:
        self.rng = rng
        self.pools = pools
        self.ids = _Ids()
        self.now = now
        self.now_db = _processor(PUPIL_TABLE.c.created_at, dialect)(now)
        self.now_iso = as_utc(now).isoformat().replace("+00:00", "Z")
        self._date_db = _processor(PUPIL_TABLE.c.birth_date, dialect)
        self._date_cache: dict[date, Any] = {}
        today = as_utc(now).date()
        self.today = today
        self.school_year = today.year if today.month >= 9 else today.year - 1
        mobiles = pools.mobile_prefixes
        self._mobile_space = len(mobiles) * 10**6
        self._mobile_mult = _coprime(97_531_357, self._mobile_space)
        self._ine_mult = _coprime(7_213_517_493, 10**10)
        self.seen_identities: set[int] = set()
        self._search: dict[str, str] = {}
        self._letters: dict[str, str] = {}
        self.batch = SeedBatch()

    # -- small helpers (kept inline-cheap: they run millions of times)

    def _pick(self, pool: Sequence[Any]) -> Any:
        return pool[int(self.rng.random() * len(pool))]

    def _weighted(self, choices: Sequence[tuple[Any, float]]) -> Any:
        roll = self.rng.random()
        for value, weight in choices:
            roll -= weight
            if roll < 0:
                return value
        return choices[-1][0]

    def _fold_search(self, name: str) -> str:
        # Names come from small pools: fold each once, not once a row.
        folded = self._search.get(name)
        if folded is None:
            folded = self._search[name] = fold_search(name)
        return folded

    def _fold_letters(self, name: str) -> str:
        folded = self._letters.get(name)
        if folded is None:
            folded = self._letters[name] = fold_letters(name)
        return folded

    def _mobile(self, person_no: int) -> str:
        # A bijection of the person's number onto valid mobile numbers: unique, and reproducible.
        n = (person_no * self._mobile_mult + 12_345_679) % self._mobile_space
        return f"+33{self.pools.mobile_prefixes[n // 10**6]}{n % 10**6:06d}"

    def _landline(self, city: City) -> str:
        prefix = self._pick(self.pools.landline_prefixes.get(city[4]) or ["140"])
        if self.rng.random() < 0.25:
            prefix = self._pick(self.pools.landline_prefixes["9"])  # internet-box numbers
        return f"+33{prefix}{int(self.rng.random() * 10**6):06d}"

    def ine_for(self, pupil_id: int, attempt: int = 0) -> str:
        """The INE of a seeded pupil: a bijection of its id (``attempt`` moves off a collision)."""
        number = (pupil_id * self._ine_mult + 3_051_998_117 + attempt * 999_999_937) % 10**10
        return make_ine(number)

    def _date_value(self, value: date) -> Any:
        stored = self._date_cache.get(value)
        if stored is None:
            stored = self._date_cache[value] = self._date_db(value)
        return stored

    # -- schools and classes

    def plan_schools(self, count: int, pupils: int, taken_uais: set[str]) -> list[_SchoolPlan]:
        """Schools with their pupil quotas (uneven, like real schools) and their classes."""
        weights = [0.5 + self.rng.random() for _ in range(count)]
        total = sum(weights)
        quotas = [int(pupils * w / total) for w in weights]
        for index in range(pupils - sum(quotas)):
            quotas[index % count] += 1
        plans: list[_SchoolPlan] = []
        for quota in quotas:
            city: City = self._pick(CITIES)
            uai = ""
            while not uai or uai in taken_uais:
                uai = make_uai(int(city[2][:2]) * 10**4 + int(self.rng.random() * 10**4))
            taken_uais.add(uai)
            kind, levels = self._weighted([((k, lv), w) for k, lv, w in SCHOOL_KINDS])
            name = f"École {kind} {self._pick(FAMOUS)}"
            plans.append(_SchoolPlan(uai, name, city, levels, quota))
        return plans

    def add_school(self, plan: _SchoolPlan, groups: Sequence[Sequence[Level]] = ()) -> None:
        """The school row and its classes, sized for its pupils (~25 a class, some double-level)."""
        city = plan.city
        row = {
            "uai": plan.uai,
            "name": plan.name,
            "commune": city[0],
            "academie": city[3],
            "created_at": self.now_db,
        }
        self.batch.schools.append(row)
        # change_rows reads ``school_uai`` from each item, which a school's snapshot lacks.
        snapshot = school_dict(row | {"created_at": self.now_iso})
        self.batch.changes.append(
            {
                "at": self.now_db,
                "entity": EntityKind.school.value,
                "op": ChangeOp.create.value,
                "entity_id": plan.uai,
                "school_uai": plan.uai,
                "data": orjson.dumps(snapshot).decode(),
            }
        )
        merged = [list(group) for group in groups] or self._class_groups(plan)
        labels: set[str] = set()
        snapshots: list[Row] = []
        for levels in merged:
            civility = "Mme" if self.rng.random() < 0.8 else "M."
            base = f"{'-'.join(levels)} {civility} {self._pick(self.pools.last_names)}"
            label, suffix = base, 2
            while label in labels:
                label, suffix = f"{base} {suffix}", suffix + 1
            labels.add(label)
            class_id = self.ids.school_class
            self.ids.school_class += 1
            class_row = {
                "id": class_id,
                "school_uai": plan.uai,
                "label": label,
                "levels": ",".join(levels),
                "created_at": self.now_db,
            }
            self.batch.classes.append(class_row)
            snapshots.append(class_dict(class_row))
            for level in levels:
                plan.class_by_level.setdefault(level, []).append(class_id)
        self._log(EntityKind.school_class, snapshots, "id")

    def _class_groups(self, plan: _SchoolPlan) -> list[list[Level]]:
        per_level = max(1, plan.pupils // len(plan.levels))
        groups: list[list[Level]] = []
        for level in plan.levels:
            groups.extend([[level]] * max(1, round(per_level / 25)))
        merged: list[list[Level]] = []
        for group in groups:
            previous = merged[-1] if merged else None
            if (
                previous is not None
                and len(previous) == 1
                and previous[0] != group[0]
                and self.rng.random() < 0.3
            ):
                merged[-1] = previous + group  # a double-level class (e.g. CE1-CE2)
            else:
                merged.append(group)
        return merged

    def _log(self, entity: EntityKind, items: list[Row], id_key: str) -> None:
        rows = change_rows(self.now, entity, ChangeOp.create, items, id_key)
        for row in rows:
            row["at"] = self.now_db
        self.batch.changes.extend(rows)

    # -- families

    def random_spec(self, room_here: int, room_elsewhere: bool) -> FamilySpec:
        """A family drawn from the simulated population's mix."""
        rng = self.rng
        roll = rng.random()
        children = 1 if roll < 0.9 else 2 if roll < 0.98 else 3
        kind = self._weighted(FAMILY_KINDS)
        extra = None
        if kind == "couple" and rng.random() < 0.08:
            extra = "grandparent"
        elif kind == "separated" and rng.random() < 0.2:
            extra = "step"
        return FamilySpec(
            kind=kind,
            children=min(children, room_here),
            extra=extra,
            other_school_child=room_elsewhere and rng.random() < 0.02,
            shared_email=kind == "couple" and rng.random() < 0.03,
            twins=children > 1 and rng.random() < 0.05,
        )

    def _parent(
        self,
        civility: str,
        nom: str,
        address: tuple[str, str | None, str, str] | None,
        city: City,
        *,
        mobile: bool = True,
    ) -> _Person:
        rng = self.rng
        prenom = self._pick(self.pools.parent_f if civility == "MME" else self.pools.parent_m)
        email = None
        if rng.random() < 0.85:
            local = f"{self._fold_letters(prenom)}.{self._fold_letters(nom)}"
            if rng.random() < 0.5:
                local += str(int(rng.random() * 100))
            email = f"{local}@{self._pick(EMAIL_DOMAINS)}"
        return _Person(
            civility=civility,
            nom=nom,
            prenom=prenom,
            mobile=None,
            wants_mobile=mobile and rng.random() >= 0.05,
            accepts_sms=rng.random() < 0.92,
            home_phone=self._landline(city) if rng.random() < 0.3 else None,
            work_phone=self._landline(city) if rng.random() < 0.15 else None,
            email=email,
            address=address,
        )

    def _address(self, city: City) -> tuple[str, str | None, str, str]:
        rng = self.rng
        number = 1 + int(rng.random() * rng.choice((20, 60, 200)))
        line2 = self._pick(LINE2) if rng.random() < 0.1 else None
        return (f"{number} {self._pick(self.pools.streets)}", line2, city[1], city[0])

    def family(self, spec: FamilySpec, home: _SchoolPlan, other: _SchoolPlan | None) -> int:
        """Write one family (pupils, responsables, links, change rows); return its pupil count."""
        rng = self.rng
        city = home.city
        address = self._address(city)
        father_nom = spec.nom or self._pick(self.pools.last_names)
        mother_nom = father_nom if rng.random() < 0.6 else self._pick(self.pools.last_names)
        members: list[tuple[_Person, str, bool]] = []  # person, lien, autorité parentale
        kind = spec.kind
        if kind in ("couple", "separated", "single_mother"):
            far = self._address(city if rng.random() < 0.7 else self._pick(CITIES))
            mother_home = far if kind == "separated" and rng.random() < 0.5 else address
            members.append((self._parent("MME", mother_nom, mother_home, city), "mere", True))
        if kind in ("couple", "separated", "single_father"):
            far = self._address(city if rng.random() < 0.7 else self._pick(CITIES))
            father_home = (
                far if kind == "separated" and members[0][0].address == address else address
            )
            members.append((self._parent("M", father_nom, father_home, city), "pere", True))
        if kind == "tutor":
            civility = "MME" if rng.random() < 0.6 else "M"
            members.append((self._parent(civility, father_nom, address, city), "tuteur", True))
        if kind in ("ase", "foster"):
            # The ASE referent is a person (names are letters only), reached at the service.
            civility = "MME" if rng.random() < 0.7 else "M"
            referent = self._parent(
                civility, self._pick(self.pools.last_names), self._address(city), city
            )
            members.append((referent, "ase", True))
        if kind == "foster":
            foster_nom = self._pick(self.pools.last_names)
            members.append(
                (self._parent("MME", foster_nom, address, city), "famille_accueil", False)
            )
        if spec.extra == "grandparent":
            grand = self._parent(
                "MME" if rng.random() < 0.7 else "M", father_nom, self._address(city), city
            )
            members.append((grand, "autre_membre_famille", False))
        elif spec.extra == "step":
            members.append(
                (
                    self._parent(
                        "M", self._pick(self.pools.last_names), members[0][0].address, city
                    ),
                    "autre",
                    False,
                )
            )
        if spec.shared_email and len(members) >= 2:
            shared = f"famille.{self._fold_letters(father_nom)}@{self._pick(EMAIL_DOMAINS)}"
            members[0][0].email = members[1][0].email = shared
        if spec.no_mobile:
            members[0][0].wants_mobile = False
        if spec.no_sms:
            members[0][0].accepts_sms = False
        if kind in ("couple",) and rng.random() < 0.1:
            child_nom = f"{father_nom}-{mother_nom}" if mother_nom != father_nom else father_nom
            child_nom = child_nom if len(child_nom) <= 80 else father_nom
        else:
            child_nom = father_nom if kind != "single_mother" else mother_nom

        placements = [home] * spec.children
        if spec.other_school_child and other is not None:
            placements.append(other)
        recorded: dict[str, list[int]] = {}  # school UAI -> responsable ids of this family there
        twin_birth: date | None = None
        written = 0
        for index, school in enumerate(placements):
            if school.uai not in recorded:
                recorded[school.uai] = [
                    self._record(person, school.uai) for person, _, _ in members
                ]
            prenoms = spec.prenoms[index] if index < len(spec.prenoms) else None
            state = spec.states[index] if index < len(spec.states) else None
            twin = twin_birth if spec.twins and school is home else None
            pupil_id, birth = self._pupil(school, child_nom, prenoms, state, twin)
            twin_birth = birth
            written += 1
            for (_, lien, authority), responsable_id in zip(
                members, recorded[school.uai], strict=True
            ):
                self._link(pupil_id, responsable_id, lien, authority, school.uai)
        return written

    def _record(self, person: _Person, school_uai: str) -> int:
        responsable_id = self.ids.responsable
        self.ids.responsable += 1
        if person.wants_mobile and person.mobile is None:
            # Numbered by the person's first record: unique, and the same in every school.
            person.mobile = self._mobile(responsable_id)
        line1, line2, postal_code, city = person.address or (None, None, None, None)
        row = {
            "id": responsable_id,
            "school_uai": school_uai,
            "civility": person.civility,
            "nom": person.nom,
            "prenom": person.prenom,
            "mobile": person.mobile,
            "accepts_sms": person.accepts_sms,
            "home_phone": person.home_phone,
            "work_phone": person.work_phone,
            "email": person.email,
            "address_line1": line1,
            "address_line2": line2,
            "postal_code": postal_code,
            "city": city,
            "country": "France" if line1 is not None else None,
            "nom_search": self._fold_search(person.nom),
            "prenom_search": self._fold_search(person.prenom),
            "created_at": self.now_db,
            "updated_at": self.now_db,
        }
        self.batch.responsables.append(row)
        return responsable_id

    def _birth_date(self, level: Level) -> date:
        rng = self.rng
        year = self.school_year - LEVEL_AGE[level]
        if level is not Level.TPS and rng.random() < 0.03:
            year -= 1  # kept back a year
        last_day = 243 if level is Level.TPS else 365  # TPS: two years old by the start of term
        return date(year, 1, 1) + timedelta(days=int(rng.random() * last_day))

    def _pupil(
        self,
        school: _SchoolPlan,
        nom: str,
        prenoms: str | None,
        state: str | None,
        twin_of: date | None,
    ) -> tuple[int, date]:
        rng = self.rng
        sex = "F" if rng.random() < 0.49 else "M"
        if prenoms is None:
            pool = self.pools.child_f if sex == "F" else self.pools.child_m
            prenoms = self._pick(pool)
            if rng.random() < 0.35:
                second = self._pick(self.pools.parent_f if sex == "F" else self.pools.parent_m)
                if second != prenoms:
                    prenoms = f"{prenoms} {second}"
        elif prenoms.split()[0] in CHILD_FIRST_M:
            sex = "M"
        elif prenoms.split()[0] in CHILD_FIRST_F:
            sex = "F"
        state = state or self._weighted(STATES)
        if twin_of is not None:
            birth = twin_of
            level = self._level_for(school, birth)
        else:
            level = self._pick(school.levels)
            birth = self._birth_date(level)
        place = school.city[2] if rng.random() < 0.5 else self._birth_place()
        key = identity_key(nom, prenoms, sex, birth, place)
        while hash(key) in self.seen_identities:
            # Two enrolled pupils with the same identity would fail ONDE's duplicate check.
            birth += timedelta(days=1)
            key = identity_key(nom, prenoms, sex, birth, place)
        self.seen_identities.add(hash(key))
        pupil_id = self.ids.pupil
        self.ids.pupil += 1
        classes = school.class_by_level.get(level)
        class_id = None
        if classes and not (
            state in ("en_attente", "radie") or (state == "inscrit" and rng.random() < 0.5)
        ):
            class_id = self._pick(classes)
        row = {
            "id": pupil_id,
            "ine": self.ine_for(pupil_id),
            "nom": nom,
            "prenoms": prenoms,
            "sex": sex,
            "birth_date": self._date_value(birth),
            "birth_place": place,
            "school_uai": school.uai,
            "class_id": class_id,
            "level": level.value,
            "state": state,
            "nom_search": self._fold_search(nom),
            "prenoms_search": self._fold_search(prenoms),
            "identity_key": key,
            "created_at": self.now_db,
            "updated_at": self.now_db,
        }
        self.batch.pupils.append(row)
        return pupil_id, birth

    def _level_for(self, school: _SchoolPlan, birth: date) -> Level:
        age = self.school_year - birth.year
        for level in school.levels:
            if LEVEL_AGE[level] == age:
                return level
        return school.levels[-1] if age > LEVEL_AGE[school.levels[-1]] else school.levels[0]

    def _birth_place(self) -> str:
        # Format-valid INSEE codes over every department widen the identity space, as in life.
        return f"{self._pick(DEPARTMENTS)}{1 + int(self.rng.random() * 600):03d}"

    def _link(
        self, pupil_id: int, responsable_id: int, lien: str, authority: bool, school_uai: str
    ) -> None:
        link_id = self.ids.link
        self.ids.link += 1
        self.batch.links.append(
            {
                "id": link_id,
                "pupil_id": pupil_id,
                "responsable_id": responsable_id,
                "lien": lien,
                "autorite_parentale": authority,
                "school_uai": school_uai,
                "created_at": self.now_db,
            }
        )

    # -- batches

    check_existing: Callable[[SeedBatch], set[str]] | None = None
    """Set per transaction when the database held pupils before: INEs already taken there."""

    def finish_batch(self) -> SeedBatch:
        """Close the current batch: fix collisions with older rows, then add its change rows."""
        batch = self.batch
        if self.check_existing is not None and batch.pupils:
            self._avoid(batch, self.check_existing(batch))
        stamps = {"created_at": self.now_iso, "updated_at": self.now_iso}
        self._log(EntityKind.pupil, [pupil_dict(row | stamps) for row in batch.pupils], "id")
        responsables = [responsable_dict(row | stamps) for row in batch.responsables]
        self._log(EntityKind.responsable, responsables, "id")
        self._log(EntityKind.link, [link_dict(row) for row in batch.links], "id")
        self.batch = SeedBatch()
        return batch

    def _avoid(self, batch: SeedBatch, taken: set[str]) -> None:
        for row in batch.pupils:
            attempt = 0
            while row["ine"] in taken:
                attempt += 1
                row["ine"] = self.ine_for(row["id"], attempt)
            while row["identity_key"] in taken:
                # An older pupil is the same child on paper: move this one's birthday.
                birth = date.fromisoformat(row["identity_key"].split("|")[3]) + timedelta(days=1)
                row["birth_date"] = self._date_value(birth)
                row["identity_key"] = identity_key(
                    row["nom"], row["prenoms"], row["sex"], birth, row["birth_place"]
                )

    def populate(self, plans: list[_SchoolPlan], batch_pupils: int) -> Iterator[SeedBatch]:
        """Families school by school, a batch every ``batch_pupils`` pupils or so."""
        remaining = [plan.pupils for plan in plans]
        pending = 0
        for index, plan in enumerate(plans):
            while remaining[index] > 0:
                spec = self.random_spec(remaining[index], index + 1 < len(plans))
                other = None
                if spec.other_school_child:
                    # A brother or sister in another school: the family is recorded there too.
                    later = index + 1 + int(self.rng.random() * (len(plans) - index - 1))
                    if remaining[later] > 0:
                        other = plans[later]
                        remaining[later] -= 1
                remaining[index] -= spec.children
                pending += self.family(spec, plan, other)
                if pending >= batch_pupils:
                    pending = 0
                    yield self.finish_batch()
        if self.batch.pupils or self.batch.schools:
            yield self.finish_batch()


# ---------------------------------------------------------------- writing


def _insert(conn: Connection, table: Table, rows: list[Row]) -> None:
    """One ``executemany`` (``COPY`` on PostgreSQL) of plain driver values: no per-row work left
    to SQLAlchemy."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "postgresql":
        columns = list(rows[0])
        copy_values(conn, table, columns, ([row[c] for c in columns] for row in rows))
        return
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    if dialect.paramstyle in ("pyformat", "format"):
        marks = [f"%({name})s" for name in columns]
    else:
        marks = [f":{name}" for name in columns]  # sqlite3 takes named parameters from dicts
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(marks)})"
    )
    conn.exec_driver_sql(sql, rows)


def write_batch(conn: Connection, batch: SeedBatch) -> None:
    """Insert a batch in foreign-key order; on PostgreSQL move the id sequences past it.

    On SQLite the tables are AUTOINCREMENT: inserting explicit ids moves ``sqlite_sequence`` to
    the highest of them by itself.
    """
    for table, rows in batch.tables():
        _insert(conn, table, rows)
    if conn.dialect.name == "postgresql":
        # Ids were given explicitly: the serial sequences must not hand them out again. They only
        # go forward: the batch's ids start after the sequence (``_reserve``).
        for table, rows in batch.tables():
            if table in ID_TABLES and rows:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"GREATEST(:highest, COALESCE(pg_sequence_last_value("
                        f"pg_get_serial_sequence('{table.name}', 'id')), 0)))"
                    ),
                    {"highest": max(row["id"] for row in rows)},
                )


def _max_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def _last_given(conn: Connection, table: Table) -> int:
    """The highest id the table ever gave, deleted rows included (0 if none, or not known)."""
    if conn.dialect.name == "sqlite":
        known = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
        ).first()
        if known is None:
            return 0
        found = conn.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table.name,)
        ).scalar()
    elif conn.dialect.name == "postgresql":
        found = conn.execute(
            text("SELECT pg_sequence_last_value(pg_get_serial_sequence(:name, 'id'))"),
            {"name": table.name},
        ).scalar()
    else:
        found = None
    return int(found or 0)


def _next_id(conn: Connection, table: Table) -> int:
    """The first id never given: after the highest row and after every deleted one."""
    return max(_max_id(conn, table), _last_given(conn, table)) + 1


def _reserve(conn: Connection, ids: _Ids) -> None:
    """Start after every id in the database (someone may have written since the last batch),
    and after every id given then deleted: an id leaves ONDE, it must never come back."""
    ids.school_class = max(ids.school_class, _next_id(conn, CLASS_TABLE))
    ids.pupil = max(ids.pupil, _next_id(conn, PUPIL_TABLE))
    ids.responsable = max(ids.responsable, _next_id(conn, RESPONSABLE_TABLE))
    ids.link = max(ids.link, _next_id(conn, LINK_TABLE))


def _taken_in(conn: Connection, batch: SeedBatch) -> set[str]:
    """INEs and identity keys of this batch already held by older pupils."""
    taken: set[str] = set()
    ines = [row["ine"] for row in batch.pupils]
    keys = [row["identity_key"] for row in batch.pupils]
    for start in range(0, len(ines), 500):
        taken.update(
            conn.scalars(
                select(PUPIL_TABLE.c.ine).where(PUPIL_TABLE.c.ine.in_(ines[start : start + 500]))
            )
        )
        taken.update(
            conn.scalars(
                select(PUPIL_TABLE.c.identity_key).where(
                    PUPIL_TABLE.c.identity_key.in_(keys[start : start + 500]),
                    PUPIL_TABLE.c.state != PupilState.radie.value,
                )
            )
        )
    return taken


def _new_generator(dialect: Any, now: datetime, seed: int, ids: _Ids) -> Generator:
    # The starting id is part of the seed: seeding twice appends new people, not clones.
    rng = random.Random(f"{seed}:{ids.pupil}")
    generator = Generator(dialect, now, rng, build_pools(int(rng.random() * 2**31)))
    generator.ids = ids
    return generator


def _start(
    generator: Generator, schools: int, pupils: int, taken_uais: set[str]
) -> tuple[SeedBatch, Iterator[SeedBatch]]:
    """The schools and classes as a first batch, and the families' batches still to generate."""
    plans = generator.plan_schools(schools, pupils, taken_uais)
    for plan in plans:
        generator.add_school(plan)
    return generator.finish_batch(), generator.populate(plans, BATCH_PUPILS)


def generate_batches(
    dialect: Any, *, schools: int, pupils: int, seed: int, now: datetime
) -> Iterator[SeedBatch]:
    """Exactly the batches ``seed_database`` writes into an empty database (for benchmarks)."""
    generator = _new_generator(dialect, now, seed, _Ids())
    first, rest = _start(generator, schools, pupils, set())
    yield first
    yield from rest


class _Tally:
    """Running counts of the rows written."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(
            ("schools", "classes", "pupils", "responsables", "links", "changes"), 0
        )

    def add(self, batch: SeedBatch) -> None:
        for name in self.counts:
            self.counts[name] += len(getattr(batch, name))

    def report(self, started: float) -> SeedReport:
        return SeedReport(**self.counts, seconds=time.perf_counter() - started)


def seed_database(
    engine: Engine,
    *,
    schools: int,
    pupils: int,
    seed: int,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Add ``schools`` new schools sharing ``pupils`` pupils, their families and change log."""
    started = time.perf_counter()
    tally = _Tally()
    with unit_of_work(engine) as session:
        conn = session.connection()
        ids = _Ids()
        _reserve(conn, ids)
        had_pupils = ids.pupil > 1
        generator = _new_generator(conn.dialect, now, seed, ids)
        first, batches = _start(
            generator, schools, pupils, set(conn.scalars(select(SCHOOL_TABLE.c.uai)))
        )
        write_batch(conn, first)
        tally.add(first)
    while True:
        # One transaction a batch: bounded memory and WAL, and the API is never blocked long.
        with unit_of_work(engine) as session:
            conn = session.connection()
            if conn.dialect.name == "sqlite":
                # Inserts into the random-order indexes (INE, names) thrash SQLite's default
                # 2 MB page cache past a few hundred thousand rows.
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            _reserve(conn, generator.ids)
            if had_pupils:
                generator.check_existing = partial(_taken_in, conn)
            batch = next(batches, None)
            if batch is None:
                break
            write_batch(conn, batch)
        tally.add(batch)
        if progress is not None:
            progress(len(batch.pupils))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-2000")  # SQLite's default again
    return tally.report(started)


# ---------------------------------------------------------------- the demo school

DEMO_FAMILIES: Final = (
    FamilySpec("couple", 2, nom="Martin", prenoms=("Léa", "Hugo")),
    FamilySpec("couple", 1, nom="Martin", prenoms=("Léa",)),  # a homonym, other parents
    FamilySpec("separated", 1, nom="N'Diaye", other_school_child=True),
    FamilySpec("single_mother", 1, nom="Lefèvre", no_mobile=True),
    FamilySpec("single_father", 1, nom="Le Goff-Éloi", no_sms=True),
    FamilySpec("tutor", 1, nom="Da Costa"),
    FamilySpec("ase", 1, nom="Benali"),
    FamilySpec("foster", 1, nom="Traoré"),
    FamilySpec("couple", 1, extra="grandparent", nom="D'Almeida"),
    FamilySpec("couple", 1, nom="Dupont", shared_email=True),
    FamilySpec("separated", 1, extra="step", nom="Nguyen"),
    FamilySpec("couple", 2, nom="Bernard", twins=True, prenoms=("Jade", "Louise")),
    FamilySpec("couple", 1, nom="Petit", states=("inscrit",)),
    FamilySpec("single_mother", 1, nom="Moreau", states=("en_attente",)),
    FamilySpec("couple", 1, nom="Roux", states=("radie",)),
    FamilySpec("couple", 2, nom="Éloi", other_school_child=True),
)
"""Scripted families: every case the sync must handle is in the demo school."""

DEMO_PUPILS: Final = 60
COMPANION_PUPILS: Final = 10


def seed_demo_school(engine: Engine, now: datetime) -> SeedReport:
    """Create the demo school 0021593W (and its neighbour maternelle) unless it exists."""
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        conn = session.connection()
        present = conn.scalar(select(SCHOOL_TABLE.c.uai).where(SCHOOL_TABLE.c.uai == DEMO_UAI))
        if present is not None:
            return SeedReport(0, 0, 0, 0, 0, 0, time.perf_counter() - started)
        ids = _Ids()
        _reserve(conn, ids)
        generator = _new_generator(conn.dialect, now, DEMO_SEED, ids)
        if ids.pupil > 1:
            generator.check_existing = partial(_taken_in, conn)
        lille = CITIES[0]
        elementary = (Level.CP, Level.CE1, Level.CE2, Level.CM1, Level.CM2)
        demo = _SchoolPlan(DEMO_UAI, DEMO_NAME, lille, elementary, DEMO_PUPILS)
        generator.add_school(
            demo, groups=[[Level.CP], [Level.CE1], [Level.CE2], [Level.CM1], [Level.CM2]]
        )
        companion = None
        companion_exists = conn.scalar(
            select(SCHOOL_TABLE.c.uai).where(SCHOOL_TABLE.c.uai == COMPANION_UAI)
        )
        if companion_exists is None:
            maternelle = (Level.PS, Level.MS, Level.GS)
            companion = _SchoolPlan(
                COMPANION_UAI, "École maternelle Louise Michel", lille, maternelle, COMPANION_PUPILS
            )
            generator.add_school(companion, groups=[[Level.PS, Level.MS], [Level.GS]])
        here = 0
        there = 0
        for spec in DEMO_FAMILIES:
            written = generator.family(spec, demo, companion)
            if spec.other_school_child and companion is not None:
                there += 1
            here += written
        here -= there
        while here < DEMO_PUPILS:
            spec = generator.random_spec(DEMO_PUPILS - here, False)
            here += generator.family(spec, demo, None)
        if companion is not None:
            while there < COMPANION_PUPILS:
                spec = generator.random_spec(COMPANION_PUPILS - there, False)
                there += generator.family(spec, companion, None)
        batch = generator.finish_batch()
        write_batch(conn, batch)
    tally = _Tally()
    tally.add(batch)
    return tally.report(started)
