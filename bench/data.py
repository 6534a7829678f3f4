"""Deterministic contact data, designed so that known search keys match a known few contacts.

Contact ``i`` gets a Turkish first name, a surname, an e-mail and a Turkish mobile number that
no other contact has. Surnames are 7-letter pseudo-words (consonant-vowel alternating over
letters no first name, e-mail or number shares a 5-letter run with); there are
:data:`SURNAMES` of them and contact ``i`` carries surname ``i % SURNAMES``, so a 5-letter piece
of one surname that no other surname contains matches exactly ``contacts / SURNAMES`` contacts:
100 of a million.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SURNAMES = 10_000
FIRST_NAMES = (
    "Ayşe",
    "Mehmet",
    "Çağla",
    "Gökhan",
    "İsmail",
    "Özge",
    "Şule",
    "Ümit",
    "Elif",
    "Burak",
    "Zeynep",
    "Mustafa",
    "Fatma",
    "Ahmet",
    "Emine",
    "Ali",
    "Hatice",
    "Hüseyin",
    "Büşra",
    "Emre",
    "Merve",
    "Oğuz",
    "Gülşen",
    "Kerem",
    "Sıla",
    "Tolga",
    "Ece",
    "Serkan",
    "Dilek",
    "Barış",
)
_ASCII = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")
_CONSONANTS = "bcdfghklmnprstvyz"
_VOWELS = "aeou"
# Search folds İ/I/ı/i into one letter; the same folding for our own counting.
_FOLD = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def surname(k: int) -> str:
    """The ``k``-th surname: CVCVCVC letters picked by a multiplicative hash of ``k``."""
    x = (k * 2_654_435_761 + 97) % (1 << 32)
    letters = []
    for position in range(7):
        alphabet = _CONSONANTS if position % 2 == 0 else _VOWELS
        x, digit = divmod(x, len(alphabet))
        letters.append(alphabet[digit])
    return "".join(letters).capitalize()


def contact(i: int, *, group: int | None = None) -> dict[str, Any]:
    """Contact ``i`` as an add-contact(s) item. Numbers come in the three forms bulk imports
    carry (national, E.164, bare), all unique: ``+90 532`` followed by ``i`` in 7 digits."""
    name = FIRST_NAMES[i % len(FIRST_NAMES)]
    digits = f"{i % 10_000_000:07d}"
    gsm = (f"0532 {digits[:3]} {digits[3:5]} {digits[5:]}", f"+90532{digits}", f"532{digits}")[
        i % 3
    ]
    item: dict[str, Any] = {
        "name": name,
        "surname": surname(i % SURNAMES),
        "email": f"{name.translate(_ASCII).lower()}.{i}@ornek.com.tr",
        "gsm": gsm,
    }
    if group is not None:
        item["groups"] = {"group": {"id": group}}
    return item


def contacts(start: int, count: int, *, group: int | None = None) -> list[dict[str, Any]]:
    return [contact(i, group=group) for i in range(start, start + count)]


def batch_payload(n: int, size: int) -> dict[str, Any]:
    """The add-contacts payload of the ``n``-th batch of ``size`` contacts."""
    return {"contacts": {"contact": contacts(n * size, size)}}


def batches(start: int, total: int, size: int) -> Iterator[range]:
    """Index ranges of ``size`` contacts covering ``[start, start + total)``."""
    for first in range(start, start + total, size):
        yield range(first, min(first + size, start + total))


@dataclass(frozen=True, slots=True)
class SearchKey:
    key: str
    expected: int  # contacts of the seeded set that match it


def search_keys(total_contacts: int, wanted: int) -> list[SearchKey]:
    """``wanted`` 5-letter keys, each matching exactly the contacts of one surname.

    A key qualifies when it occurs in no other surname, in no first name and in no part of
    the e-mail and number templates. Every other key is made of upper-case letters, to test
    folding as an operator's typing would.
    """
    used = min(SURNAMES, total_contacts)
    names = [surname(k).lower() for k in range(used)]
    others = " ".join(n.translate(_FOLD).lower() for n in FIRST_NAMES)
    others += " " + " ".join(n.translate(_ASCII).lower() for n in FIRST_NAMES) + " ornek.com.tr"
    joined = "\n".join(names)
    found: list[SearchKey] = []
    for k in range(0, used, max(1, used // (wanted * 3))):
        piece = names[k][1:6]
        if joined.count(piece) != 1 or piece in others:
            continue
        per_surname = total_contacts // SURNAMES + (1 if k < total_contacts % SURNAMES else 0)
        key = piece.upper() if len(found) % 2 else piece
        found.append(SearchKey(key, per_surname))
        if len(found) == wanted:
            break
    return found
