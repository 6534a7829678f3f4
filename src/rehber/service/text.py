"""Value rules of the address book: names, e-mail, GSM numbers and search folding."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from rehber.codes import Code, ServiceError

MAX_NAME = 255
MAX_FIELD_VALUE = 1000
MIN_SEARCH = 3
DEFAULT_REGION = "TR"

# Dotted and dotless i fold together: their case mapping differs between Turkish and other
# locales, so one bucket is the only choice that finds "İzmir" from "IZMIR", "izmir" or "Izmir".
_PHONE_KEY = re.compile(r"[\d\s+()\-]+")
_NON_DIGIT = re.compile(r"\D")
_SEPARATOR = "\n"


def fold(text: str) -> str:
    """Case-fold with Turkish awareness (İ/i, I/ı, Ş/ş, Ğ/ğ, Ü/ü, Ö/ö, Ç/ç).

    Three replaces, not ``str.translate``: a translation table is looked up per character in
    Python's dictionary, seven times slower on a contact's text (every write folds one).
    """
    return text.replace("İ", "i").replace("I", "i").replace("ı", "i").lower()


def clean_name(value: str | None) -> str:
    """A trimmed name, surname or group name; longer than 255 characters -> 422."""
    text = (value or "").strip()
    if len(text) > MAX_NAME:
        raise ServiceError(Code.VALIDATION, "longer than 255 characters")
    return text


def clean_email(value: str | None) -> str:
    email = clean_name(value)
    if email:
        _check_email(email)
    return email


# RFC 5322 dot-atom in ASCII: the local part of nearly every real address. Such an address is
# valid exactly when its domain is, so the (slow) full validation runs once per domain.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_EMAIL, _MAX_LOCAL = 254, 64


def _check_email(email: str) -> None:
    local, at, domain = email.rpartition("@")
    if at and len(email) <= _MAX_EMAIL and len(local) <= _MAX_LOCAL and _DOT_ATOM.fullmatch(local):
        _check_full_email("a@" + domain)
    else:
        _check_full_email(email)


@lru_cache(maxsize=4096)
def _check_full_email(email: str) -> None:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError(Code.VALIDATION, "invalid e-mail") from exc


def clean_field_value(value: str) -> str:
    if len(value) > MAX_FIELD_VALUE:
        raise ServiceError(Code.VALIDATION, "custom field value longer than 1000 characters")
    return value


# Turkish mobile numbers in their usual spellings take a fast path: the national number is
# checked against phonenumbers' own TR mobile pattern, so the answer is the library's answer.
def _mobile_pattern(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if not pattern:
        raise RuntimeError(f"phonenumbers has no mobile pattern for {region}")
    return str(pattern)


# An optional international or trunk prefix, then ten digits starting with 5 that the library
# calls a mobile number. ASCII: ``\d`` would accept other scripts' digits, which phonenumbers
# reads as their ASCII values; those numbers take the library's path.
_TR_SPELLED_MOBILE = re.compile(
    rf"(?:\+90|90|0)?(?=5\d{{9}}\Z)({_mobile_pattern(DEFAULT_REGION)})", re.ASCII
)
_SEPARATORS = re.compile(r"[\s().-]")


def normalize_gsm(value: str | None) -> str:
    """E.164 form of a number (default region TR); "" stays ""; invalid -> 466."""
    raw = (value or "").strip()
    if not raw:
        return ""
    # Spaces are the usual separators: one replace is far cheaper than the separator regex.
    spelled = _TR_SPELLED_MOBILE.fullmatch(raw.replace(" ", "")) or _TR_SPELLED_MOBILE.fullmatch(
        _SEPARATORS.sub("", raw)
    )
    if spelled:
        return "+90" + spelled.group(1)
    return _normalize_gsm(raw)


@lru_cache(maxsize=65536)
def _normalize_gsm(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError(Code.INVALID_NUMBER, "unparseable number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ServiceError(Code.INVALID_NUMBER, "not a valid number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _gsm_forms(gsm: str) -> str:
    """The stored number as searched: E.164 (which contains the international digits) and the
    national form with its trunk prefix, so "0532…", "90532…", "+90 532…" and "532…" all hit."""
    if gsm.startswith("+90"):  # Turkish national form: trunk prefix 0 + national number
        return gsm + _SEPARATOR + "0" + gsm[3:]
    return _foreign_gsm_forms(gsm)


@lru_cache(maxsize=4096)
def _foreign_gsm_forms(gsm: str) -> str:
    number = phonenumbers.parse(gsm, None)
    national = _NON_DIGIT.sub(
        "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return gsm + _SEPARATOR + national


def search_text(name: str, surname: str, email: str, gsm: str) -> str:
    """The folded text the search index covers for one contact.

    The three texts are folded as one string: case mapping is per character except for the
    Greek final sigma, whose rule treats the separator exactly as a string end.
    """
    text = fold(f"{name}{_SEPARATOR}{surname}{_SEPARATOR}{email}")
    return f"{text}{_SEPARATOR}{_gsm_forms(gsm)}" if gsm else text


def search_needle(key: str | None) -> str:
    """What to look for: the folded key, or only its digits when it is a phone number."""
    text = " ".join((key or "").split())
    if len(text) < MIN_SEARCH:
        raise ServiceError(Code.SEARCH_TERM_TOO_SHORT)
    if _PHONE_KEY.fullmatch(text) and any(ch.isdigit() for ch in text):
        return _NON_DIGIT.sub("", text)
    return fold(text)
