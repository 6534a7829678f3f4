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
_I_FAMILY = str.maketrans({"İ": "i", "I": "i", "ı": "i"})
_PHONE_KEY = re.compile(r"[\d\s+()\-]+")
_NON_DIGIT = re.compile(r"\D")
_SEPARATOR = "\n"


def fold(text: str) -> str:
    """Case-fold with Turkish awareness (İ/i, I/ı, Ş/ş, Ğ/ğ, Ü/ü, Ö/ö, Ç/ç)."""
    return text.translate(_I_FAMILY).lower()


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


@lru_cache(maxsize=4096)
def _check_email(email: str) -> None:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError(Code.VALIDATION, "invalid e-mail") from exc


def clean_field_value(value: str) -> str:
    if len(value) > MAX_FIELD_VALUE:
        raise ServiceError(Code.VALIDATION, "custom field value longer than 1000 characters")
    return value


def normalize_gsm(value: str | None) -> str:
    """E.164 form of a number (default region TR); "" stays ""; invalid -> 466."""
    raw = (value or "").strip()
    return _normalize_gsm(raw) if raw else ""


@lru_cache(maxsize=65536)
def _normalize_gsm(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError(Code.INVALID_NUMBER, "unparseable number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ServiceError(Code.INVALID_NUMBER, "not a valid number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=65536)
def _gsm_forms(gsm: str) -> str:
    """The stored number as searched: E.164 (which contains the international digits) and the
    national form with its trunk prefix, so "0532…", "90532…", "+90 532…" and "532…" all hit."""
    number = phonenumbers.parse(gsm, None)
    national = _NON_DIGIT.sub(
        "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return gsm + _SEPARATOR + national


def search_text(name: str, surname: str, email: str, gsm: str) -> str:
    """The folded text the search index covers for one contact."""
    parts = [fold(name), fold(surname), fold(email)]
    if gsm:
        parts.append(_gsm_forms(gsm))
    return _SEPARATOR.join(parts)


def search_needle(key: str | None) -> str:
    """What to look for: the folded key, or only its digits when it is a phone number."""
    text = " ".join((key or "").split())
    if len(text) < MIN_SEARCH:
        raise ServiceError(Code.SEARCH_TERM_TOO_SHORT)
    if _PHONE_KEY.fullmatch(text) and any(ch.isdigit() for ch in text):
        return _NON_DIGIT.sub("", text)
    return fold(text)
