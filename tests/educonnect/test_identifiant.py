"""Identifiants ``p.nomXX``: folding, digits, collisions, reproducibility (property-based)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fake_educonnect.identifiant import (
    FAMILY_NAME_MAX,
    candidate_suffixes,
    choose_identifiant,
    identifiant_base,
)

FRENCH_LETTERS = (
    "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæABCDEFGHIJKLMNOPQRSTUVWXYZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ"
)
names = st.text(alphabet=FRENCH_LETTERS + " -'’", min_size=1, max_size=60)
any_names = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Zs", "Pd"), include_characters="'’"),
    min_size=1,
    max_size=60,
)
BASE = re.compile(r"^[a-z]\.[a-z]{1,20}$")


def test_the_domain_example() -> None:
    assert identifiant_base("Jean-Pierre", "N'Diaye-Éloi") == "j.ndiayeeloi"
    assert identifiant_base("Élodie", "Le Goff") == "e.legoff"
    assert identifiant_base("anne", "Abcdefghijklmnopqrstuvwxyz") == "a.abcdefghijklmnopqrst"
    assert identifiant_base("Œdipe", "Lætitia-Cœur") == "o.laetitiacoeur"


@given(any_names, any_names)
def test_a_base_is_one_letter_a_dot_and_at_most_20_letters(prenom: str, nom: str) -> None:
    base = identifiant_base(prenom, nom)
    assert BASE.match(base), base
    assert len(base.split(".")[1]) <= FAMILY_NAME_MAX


@given(names, names)
def test_case_and_accents_do_not_matter(prenom: str, nom: str) -> None:
    assert identifiant_base(prenom.upper(), nom.upper()) == identifiant_base(
        prenom.lower(), nom.lower()
    )


@given(st.integers(min_value=0, max_value=10**6), st.text(min_size=1, max_size=25))
@settings(max_examples=30)
def test_suffixes_try_every_pair_then_every_triple_without_repeat(seed: int, base: str) -> None:
    suffixes = list(candidate_suffixes(seed, base))
    assert all(len(s) == 2 for s in suffixes[:100])
    assert sorted(suffixes[:100]) == [f"{n:02d}" for n in range(100)]
    assert sorted(suffixes[100:1100]) == [f"{n:03d}" for n in range(1000)]
    assert list(candidate_suffixes(seed, base))[:10] == suffixes[:10]


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=150))
@settings(max_examples=20)
def test_homonyms_get_distinct_identifiants(seed: int, count: int) -> None:
    taken: set[str] = set()
    made = [choose_identifiant(seed, "s.martin", taken) for _ in range(count)]
    assert len(set(made)) == count
    assert all(re.fullmatch(r"s\.martin\d{2,3}", m) for m in made)
    assert sum(len(m) == len("s.martin") + 2 for m in made) == min(count, 100)
    again: set[str] = set()
    assert [choose_identifiant(seed, "s.martin", again) for _ in range(count)] == made
