"""Identifiants ``p.nomXX``: folding, digits, collisions, reproducibility (property-based)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_educonnect.identifiant import (
    FAMILY_NAME_MAX,
    IdentifiantPicker,
    candidate_suffixes,
    choose_identifiant,
    identifiant_base,
    suffixes,
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


@given(
    st.integers(min_value=0, max_value=10**6),
    st.text(min_size=1, max_size=25),
    st.integers(min_value=0, max_value=1200),
    st.integers(min_value=1, max_value=150),
)
@settings(max_examples=60)
def test_a_window_of_suffixes_is_that_slice_of_the_walk(
    seed: int, base: str, start: int, count: int
) -> None:
    """Inside the two-digit walk, across into three digits, or further: the same slice."""
    walk = list(candidate_suffixes(seed, base))
    assert suffixes(seed, base, start, count) == walk[start : start + count]


def test_windows_at_the_end_of_the_two_digit_walk() -> None:
    walk = list(candidate_suffixes(7, "p.martin"))
    for start in range(90, 102):
        for count in range(1, 14):
            assert suffixes(7, "p.martin", start, count) == walk[start : start + count]


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


class _Accounts:
    """The identifiants in use, and the walk positions, as EduConnect's tables keep them."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ())
        self.positions: dict[str, int] = {}
        self.checked = 0

    def is_taken(self, candidates: list[str]) -> set[str]:
        self.checked += len(candidates)
        return self.taken & set(candidates)

    def batch(self, seed: int, bases: list[str]) -> list[str]:
        """Give ``bases`` one identifiant each, as one import batch does."""
        picker = IdentifiantPicker(seed, dict(self.positions), self.is_taken)
        picker.prefetch({base: bases.count(base) for base in set(bases)})
        made = [picker.choose(base) for base in bases]
        self.taken.update(made)
        self.positions.update({base: picker.positions[base] for base in picker.moved})
        return made


@given(
    st.integers(min_value=0, max_value=10**6),
    st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=5),
)
@settings(max_examples=20)
def test_the_walk_over_batches_gives_what_the_first_free_rule_gives(
    seed: int, batch_sizes: list[int]
) -> None:
    accounts = _Accounts()
    made = [i for size in batch_sizes for i in accounts.batch(seed, ["s.martin"] * size)]
    taken: set[str] = set()
    assert made == [choose_identifiant(seed, "s.martin", taken) for _ in made]
    # Each batch checks only the candidates it may give: the walk never re-reads the used ones.
    assert accounts.checked == sum(batch_sizes)


@given(st.integers(min_value=0, max_value=10**6), st.sets(st.integers(0, 30), max_size=12))
@settings(max_examples=20)
def test_candidates_held_without_a_walk_position_are_skipped(
    seed: int, held_positions: set[int]
) -> None:
    """A database whose walk table lost track (a hand-made account): held ones are passed over."""
    held = {
        "s.martin" + s
        for k, s in enumerate(candidate_suffixes(seed, "s.martin"))
        if k in held_positions
    }
    accounts = _Accounts(held)
    made = accounts.batch(seed, ["s.martin"] * 20) + accounts.batch(seed, ["s.martin"] * 5)
    assert not held & set(made)
    expected = set(held)
    assert made == [choose_identifiant(seed, "s.martin", expected) for _ in made]


def test_a_retired_identifiant_is_not_given_again() -> None:
    accounts = _Accounts()
    first = accounts.batch(7, ["s.martin", "s.martin"])
    accounts.taken.discard(first[0])  # the account was merged away: its identifiant is free
    again = accounts.batch(7, ["s.martin"])
    assert again[0] not in first


def test_a_base_not_prefetched_is_refused_rather_than_walked_from_the_start() -> None:
    """Its stored position was never read: starting from 0 would store the walk a second time."""
    picker = IdentifiantPicker(7, {}, lambda candidates: set())
    picker.prefetch({"s.martin": 1})
    assert picker.choose("s.martin").startswith("s.martin")
    with pytest.raises(KeyError, match=r"p\.durand"):
        picker.choose("p.durand")
