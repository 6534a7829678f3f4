"""Defects the reliability suite found, each pinned by the smallest request that showed it."""

from __future__ import annotations

from tests.support.api import Api


def test_megabyte_search_key_finds_nothing_instead_of_failing(api: Api) -> None:
    """A 1 MB key broke SQLite's LIKE pattern limit ("pattern too complex"): 503."""
    api.add_contact(name="Ayşe", gsm="5321234567")
    for key in ("a" * 1_000_000, "ayşe" * 300, "5" * 5000):
        reply = api.call("search-contacts", {"search": {"key": key}})
        assert (reply.status, reply.code) == (465, 465)
    assert api.call("search-contacts", {"search": {"key": "ayşe"}}).code == 200


def test_huge_page_is_past_the_end_instead_of_failing(api: Api) -> None:
    """page = 10**40 made an offset no driver can bind (OverflowError / out of range): 503."""
    group = api.add_group("G")
    api.add_contact(name="Ayşe", gsm="5321234567", groups=[group])
    for page in ("9" * 40, 2**63, str(2**63 - 1)):
        searched = api.call("search-contacts", {"search": {"key": "ayşe", "page": page}})
        assert (searched.status, searched.code) == (465, 465)
        listed = api.call("get-group-contacts", {"group": {"id": group, "page": page}})
        assert (listed.status, listed.code) == (465, 465)
