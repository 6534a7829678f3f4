"""Defects the reliability suite found, each pinned by the smallest request that showed it."""

from __future__ import annotations

from rehber.server.app import Services
from tests.support.api import Api
from tests.support.snapshot import snapshot


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


def test_key_with_nul_is_unknown_instead_of_failing(json_api: Api, services: Services) -> None:
    """PostgreSQL text cannot hold NUL: looking such a key up raised a DataError (503)."""
    before = snapshot(services)
    for key in ("\u0000", json_api.key + "\u0000", "\u0000" + json_api.key):
        reply = json_api.as_other(key, json_api.hash).call("get-groups")
        assert (reply.status, reply.code) == (401, 401)
    assert snapshot(services) == before
