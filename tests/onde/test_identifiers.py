"""Property-based tests of the identifiers (UAI, INE), phone normalisation and text folding."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edusim_common.text import fold_letters, fold_search, strip_accents
from fake_onde.identifiers import (
    KEY_ALPHABET,
    ine_key,
    make_ine,
    make_uai,
    normalize_ine,
    normalize_insee,
    normalize_phone,
    normalize_uai,
    uai_key,
)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# ---------------------------------------------------------------- UAI


def test_key_alphabet_has_no_i_o_q() -> None:
    assert len(KEY_ALPHABET) == 23
    assert not set("IOQ") & set(KEY_ALPHABET)


def test_domain_example_uai_is_valid() -> None:
    assert normalize_uai("0021593W") == "0021593W"
    assert uai_key("0021593") == "W"
    assert make_uai(21593) == "0021593W"


@given(st.integers(min_value=0, max_value=9_999_999))
def test_every_seven_digit_number_makes_a_valid_uai(number: int) -> None:
    uai = make_uai(number)
    assert re.fullmatch(r"\d{7}[A-Z]", uai)
    assert int(uai[:7]) == number
    assert uai[7] == KEY_ALPHABET[number % 23]
    assert normalize_uai(uai) == uai


@given(st.integers(min_value=0, max_value=9_999_999), st.sampled_from(LETTERS))
def test_any_other_uai_key_letter_is_refused(number: int, letter: str) -> None:
    uai = make_uai(number)
    assume(letter != uai[7])
    with pytest.raises(ValueError, match="key letter"):
        normalize_uai(uai[:7] + letter)


@given(st.integers(min_value=0, max_value=9_999_999), st.sampled_from(["", " ", "\t"]))
def test_lower_case_uai_is_accepted_and_upper_cased(number: int, blank: str) -> None:
    uai = make_uai(number)
    assert normalize_uai(blank + uai.lower() + blank) == uai


@pytest.mark.parametrize(
    "value", ["", "002159W", "00215930W", "0021593", "A021593W", "0021593WW", "0021 593W"]
)
def test_malformed_uai_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="7 digits"):
        normalize_uai(value)


# ---------------------------------------------------------------- INE


@given(st.integers(min_value=0, max_value=9_999_999_999))
def test_every_ten_digit_number_makes_a_valid_ine(number: int) -> None:
    ine = make_ine(number)
    assert re.fullmatch(r"\d{10}[A-Z]", ine)
    assert int(ine[:10]) == number
    assert ine[10] == ine_key(ine[:10])
    assert ine[10] in KEY_ALPHABET
    assert normalize_ine(ine) == ine


@given(st.integers(min_value=0, max_value=9_999_999_999), st.sampled_from(LETTERS))
def test_any_other_ine_key_letter_is_refused(number: int, letter: str) -> None:
    ine = make_ine(number)
    assume(letter != ine[10])
    with pytest.raises(ValueError, match="key letter"):
        normalize_ine(ine[:10] + letter)


@given(st.integers(min_value=0, max_value=9_999_999_999))
def test_lower_case_ine_is_accepted_and_upper_cased(number: int) -> None:
    ine = make_ine(number)
    assert normalize_ine(f" {ine.lower()} ") == ine


@pytest.mark.parametrize("value", ["", "012345678K", "0123456789", "01234567890K", "0021593W"])
def test_malformed_ine_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="10 digits"):
        normalize_ine(value)


def test_ine_key_differs_from_uai_key_rule() -> None:
    # The documented assumption: (digits * 7 + 3) % 23, not digits % 23.
    assert ine_key("0000000000") == KEY_ALPHABET[3]
    assert ine_key("0000000001") == KEY_ALPHABET[10]


# ---------------------------------------------------------------- INSEE


@pytest.mark.parametrize(("value", "expected"), [("59350", "59350"), ("2a004", "2A004")])
def test_insee_codes(value: str, expected: str) -> None:
    assert normalize_insee(value) == expected


@pytest.mark.parametrize("value", ["5935", "593500", "2C004", "ABCDE", ""])
def test_bad_insee_codes(value: str) -> None:
    with pytest.raises(ValueError, match="INSEE"):
        normalize_insee(value)


# ---------------------------------------------------------------- phones

# National numbers that libphonenumber knows as French mobiles (06/07 ranges in service).
MOBILE_PREFIXES = [f"6{d}" for d in "0124568"] + ["67", "68"] + [f"7{d}" for d in "3456789"]
eight_digits = st.integers(min_value=0, max_value=99_999_999).map(lambda n: f"{n:08d}")
seven_digits = st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}")
mobile_numbers = st.builds(
    lambda p, rest: "0" + p + rest, st.sampled_from(MOBILE_PREFIXES), seven_digits
)
any_06_07 = st.builds(lambda p, rest: p + rest, st.sampled_from(["06", "07"]), eight_digits)
# 01 (Île-de-France) and 03 (north-east): every number of these ranges is a valid landline.
landlines = st.builds(lambda p, rest: p + rest, st.sampled_from(["01", "03"]), eight_digits)


def french_formats(national: str) -> list[str]:
    """The usual ways of writing the French number ``national`` (``0XXXXXXXXX``)."""
    pairs = " ".join(national[i : i + 2] for i in range(0, 10, 2))
    rest = national[1:]
    return [
        pairs,
        national,
        pairs.replace(" ", "."),
        pairs.replace(" ", "-"),
        f"+33 {rest[0]} {' '.join(rest[i : i + 2] for i in range(1, 9, 2))}",
        f"+33{rest}",
        f"0033{rest}",
        f"+33 (0){rest}",
    ]


def _outcome(value: str, *, mobile: bool) -> str:
    try:
        return normalize_phone(value, mobile=mobile)
    except ValueError:
        return "refused"


@given(mobile_numbers)
def test_every_format_of_a_mobile_gives_the_same_e164(national: str) -> None:
    expected = "+33" + national[1:]
    for written in french_formats(national):
        assert normalize_phone(written, mobile=True) == expected, written
        assert normalize_phone(written) == expected, written


@given(any_06_07)
def test_formats_of_any_06_07_number_agree(national: str) -> None:
    outcomes = {_outcome(written, mobile=True) for written in french_formats(national)}
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    assert outcome in ("refused", "+33" + national[1:])


def test_documented_examples() -> None:
    for written in (
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033612345678",
    ):
        assert normalize_phone(written, mobile=True) == "+33612345678"


@given(landlines)
def test_landlines_are_phones_but_not_mobiles(national: str) -> None:
    for written in french_formats(national)[:3]:
        assert normalize_phone(written) == "+33" + national[1:]
        with pytest.raises(ValueError, match="mobile"):
            normalize_phone(written, mobile=True)


@given(st.sampled_from(["06", "07", "01"]), st.integers(min_value=0, max_value=9_999_999))
def test_too_short_numbers_are_refused(prefix: str, number: int) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(f"{prefix}{number:07d}")


@given(st.sampled_from(["06", "07", "01"]), st.integers(min_value=0, max_value=999_999_999))
def test_too_long_numbers_are_refused(prefix: str, number: int) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(f"{prefix}{number:09d}")


@given(st.text(alphabet=" .-()+", max_size=12))
def test_strings_without_digits_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(value)


@pytest.mark.parametrize(
    "value",
    ["", "   ", "hello", "06 12 34", "06 12 34 56 78 90 12", "+1 0", "0" * 31, "06-12-34-56-7x"],
)
def test_malformed_phones_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(value)
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(value, mobile=True)


# ---------------------------------------------------------------- text folding


@given(st.text())
def test_fold_letters_keeps_only_a_to_z(value: str) -> None:
    assert re.fullmatch(r"[a-z]*", fold_letters(value))


@given(st.text())
def test_fold_letters_is_idempotent(value: str) -> None:
    once = fold_letters(value)
    assert fold_letters(once) == once


@given(st.text(alphabet=st.characters(codec="ascii", categories=["Lu", "Ll"])))
def test_fold_letters_lower_cases_plain_ascii_letters(value: str) -> None:
    assert fold_letters(value) == value.lower()


@given(st.text(alphabet=st.sampled_from("aeiouceAEIOUC"), min_size=1, max_size=20))
def test_fold_letters_ignores_accents_case_and_punctuation(value: str) -> None:
    accents = {"a": "à", "e": "é", "i": "î", "o": "ô", "u": "ü", "c": "ç"}
    decorated = "-".join(accents.get(ch.lower(), ch).upper() + "' " for ch in value)
    assert fold_letters(decorated) == value.lower()


def test_fold_letters_domain_example() -> None:
    assert fold_letters("N'Diaye-Éloi") == "ndiayeeloi"
    assert fold_letters("Jean-Pierre") == "jeanpierre"
    assert strip_accents("Lefèvre") == "Lefevre"


@given(st.text())
def test_fold_search_is_trimmed_lower_case_and_idempotent(value: str) -> None:
    folded = fold_search(value)
    assert folded == folded.strip()
    assert "  " not in folded
    assert fold_search(folded) == folded


def test_fold_search_examples() -> None:
    assert fold_search("  LEFÈVRE   Marie ") == "lefevre marie"
    assert fold_search("Lefe").startswith("lefe")
