"""The fast paths for numbers and e-mail give exactly the answers of the libraries they skip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehber.codes import ServiceError
from rehber.service import text


def _outcome(fn: object, value: str) -> str:
    try:
        return str(fn(value))  # type: ignore[operator]
    except ServiceError as exc:
        return f"error {exc.code}"


spellings = st.sampled_from(
    ["{n}", "0{n}", "90{n}", "+90{n}", "+90 {a} {b} {c} {d}", "0 ({a}) {b}-{c}-{d}"]
)


@settings(max_examples=400, deadline=None)
@given(national=st.from_regex(r"5[0-9]{9}", fullmatch=True), spelling=spellings)
def test_turkish_fast_path_matches_phonenumbers(national: str, spelling: str) -> None:
    raw = spelling.format(
        n=national, a=national[:3], b=national[3:6], c=national[6:8], d=national[8:]
    )
    assert _outcome(text.normalize_gsm, raw) == _outcome(text._normalize_gsm, raw)


# Arabic-Indic, Extended Arabic-Indic and fullwidth digits: phonenumbers reads them as 0-9.
_OTHER_DIGITS = ("\u0660", "\u06f0", "\uff10")


@settings(max_examples=300, deadline=None)
@given(
    national=st.from_regex(r"5[0-9]{9}", fullmatch=True),
    spelling=spellings,
    where=st.integers(1, 9),
    script=st.sampled_from(_OTHER_DIGITS),
)
def test_other_scripts_digits_get_the_library_answer(
    national: str, spelling: str, where: int, script: str
) -> None:
    digit = chr(ord(script) + int(national[where]))
    national = national[:where] + digit + national[where + 1 :]
    raw = spelling.format(
        n=national, a=national[:3], b=national[3:6], c=national[6:8], d=national[8:]
    )
    outcome = _outcome(text.normalize_gsm, raw)
    assert outcome == _outcome(text._normalize_gsm, raw)
    assert outcome.isascii()  # stored numbers are ASCII, whatever digits came in


@pytest.mark.parametrize("raw", ["+14155552671", "+447911123456", "0212 123 45 67", "12345", "abc"])
def test_other_numbers_take_the_library_path(raw: str) -> None:
    assert _outcome(text.normalize_gsm, raw) == _outcome(text._normalize_gsm, raw)


atext = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=12)
locals_ = st.lists(atext, min_size=1, max_size=3).map(".".join) | st.text(max_size=20)
domains = st.sampled_from(
    [
        "example.com",
        "gmail.com",
        "örnek.com.tr",
        "localhost",
        "a",
        "-bad.com",
        "x..y",
        "test",
        "mail.example.org",
    ]
)


@settings(max_examples=400, deadline=None)
@given(local=locals_, domain=domains)
def test_email_fast_path_matches_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert _outcome(text._check_email, address) == _outcome(text._check_full_email, address)


def test_search_text_forms_of_a_turkish_number() -> None:
    assert text.search_text("Ayşe", "", "", "+905321234567").endswith("+905321234567\n05321234567")


_I_FAMILY = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aAiIİıöÖçÇşŞğĞüÜ σΣςẞß\n") | st.characters()))
def test_fold_is_the_i_family_in_one_bucket_then_lower_case(value: str) -> None:
    assert text.fold(value) == value.translate(_I_FAMILY).lower()
