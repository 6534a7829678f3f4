"""Contacts end to end: add, edit semantics, delete, get, search, bulk — both formats and DBs."""

from __future__ import annotations

import pytest

from rehber.server.app import Services
from tests.support.api import Api
from tests.support.snapshot import snapshot


@pytest.fixture
def field_ids(services: Services, account: object) -> tuple[int, int]:
    account_id = account.account.id  # type: ignore[attr-defined]
    a = services.accounts.create_field(account_id, "Doğum tarihi")
    b = services.accounts.create_field(account_id, "Segment")
    return a.id, b.id


@pytest.mark.parametrize(
    "raw", ["5321234567", "05321234567", "905321234567", "+90 532 123 45 67", "0 (532) 123-45-67"]
)
def test_gsm_is_normalised_to_e164(api: Api, raw: str) -> None:
    assert api.add_contact(gsm=raw)["gsm"] == "+905321234567"


def test_foreign_numbers_keep_e164(api: Api) -> None:
    assert api.add_contact(gsm="+44 7911 123456")["gsm"] == "+447911123456"


def test_add_contact_full_record(api: Api, field_ids: tuple[int, int]) -> None:
    group = api.add_group("G")
    f1, f2 = field_ids
    contact = api.ok(
        "add-contact",
        {
            "contact": {
                "name": " Ayşe ",
                "surname": "Yılmaz",
                "email": "ayse@example.com",
                "gsm": "5321234567",
                "custom_fields": {
                    "custom_field": [{"id": f1, "value": "27/09/2024"}, {"id": f2, "value": "VIP"}]
                },
                "groups": {"id": [group]} if api.fmt == "xml" else {"group": {"id": group}},
            }
        },
    ).contact()
    assert contact["name"] == "Ayşe"
    assert contact["custom_fields"] == [
        {"id": f1, "value": "27/09/2024"},
        {"id": f2, "value": "VIP"},
    ]
    assert contact["groups"] == [group]
    assert api.ok("get-contact", {"contact": {"id": contact["id"]}}).contact() == contact


@pytest.mark.parametrize(
    "groups_json",
    ["group_obj", "group_list", "id_list", "id_scalar", "plain_list", "list_of_obj"],
)
def test_every_documented_json_group_shape(json_api: Api, groups_json: str) -> None:
    api = json_api
    a, b = api.add_group("A"), api.add_group("B")
    shapes = {
        "group_obj": ({"group": {"id": a}}, [a]),
        "group_list": ({"group": [{"id": a}, {"id": str(b)}]}, [a, b]),
        "id_list": ({"id": [a, b]}, [a, b]),
        "id_scalar": ({"id": b}, [b]),
        "plain_list": ([b, a], [a, b]),
        "list_of_obj": ([{"id": a}], [a]),
    }
    body, expected = shapes[groups_json]
    contact = api.ok("add-contact", {"contact": {"name": "X", "groups": body}}).contact()
    assert contact["groups"] == expected


def test_xml_group_shapes(xml_api: Api) -> None:
    api = xml_api
    a, b = api.add_group("A"), api.add_group("B")
    flat = api.ok("add-contact", {"contact": {"name": "X", "groups": {"id": [a, b]}}}).contact()
    nested = api.ok(
        "add-contact", {"contact": {"name": "Y", "groups": {"group": [{"id": a}, {"id": b}]}}}
    ).contact()
    assert flat["groups"] == nested["groups"] == [a, b]


def test_edit_contact_semantics(api: Api, field_ids: tuple[int, int]) -> None:
    f1, f2 = field_ids
    a, b, c = api.add_group("A"), api.add_group("B"), api.add_group("C")
    contact = api.ok(
        "add-contact",
        {
            "contact": {
                "name": "Ayşe",
                "surname": "Yılmaz",
                "email": "ayse@example.com",
                "gsm": "5321234567",
                "custom_fields": [{"id": f1, "value": "1"}, {"id": f2, "value": "2"}],
                "groups": {"id": [a, b]},
            }
        },
    ).contact()
    cid = contact["id"]
    # Absent scalars, groups and fields are kept; present ones replace; empty clears.
    edited = api.ok(
        "edit-contact",
        {
            "contact": {
                "id": cid,
                "surname": "Kaya",
                "email": "",
                "custom_fields": [{"id": f2, "value": "yeni"}],
            }
        },
    ).contact()
    assert (edited["name"], edited["surname"], edited["email"]) == ("Ayşe", "Kaya", "")
    assert edited["gsm"] == "+905321234567"
    assert edited["groups"] == [a, b]
    assert edited["custom_fields"] == [{"id": f1, "value": "1"}, {"id": f2, "value": "yeni"}]
    # groups present replace the whole set; an empty value removes that field.
    edited = api.ok(
        "edit-contact",
        {"contact": {"id": cid, "groups": {"id": [c]}, "custom_fields": [{"id": f1, "value": ""}]}},
    ).contact()
    assert edited["groups"] == [c]
    assert edited["custom_fields"] == [{"id": f2, "value": "yeni"}]
    counts = {g["id"]: g["count"] for g in api.ok("get-groups").groups()}
    assert counts == {a: 0, b: 0, c: 1}


def test_edit_contact_cannot_empty_everything(api: Api, services: Services) -> None:
    cid = api.add_contact(name="Ayşe")["id"]
    before = snapshot(services)
    assert api.call("edit-contact", {"contact": {"id": cid, "name": ""}}).code == 472
    assert snapshot(services) == before


def test_delete_contact_updates_group_counts(api: Api) -> None:
    group = api.add_group("G")
    a = api.add_contact(name="A", groups=[group])["id"]
    api.add_contact(name="B", groups=[group])
    api.ok("delete-contact", {"contact": {"id": a}})
    assert api.ok("get-groups").groups()[0]["count"] == 1
    assert api.call("get-contact", {"contact": {"id": a}}).code == 465


def test_delete_contacts_is_all_or_nothing(api: Api, services: Services) -> None:
    a = api.add_contact(name="A")["id"]
    b = api.add_contact(name="B")["id"]
    before = snapshot(services)
    reply = api.call("delete-contacts", {"contacts": {"contact": [{"id": a}, {"id": 987654}]}})
    assert reply.code == 465
    assert snapshot(services) == before
    api.ok("delete-contacts", {"contacts": {"contact": [{"id": a}, {"id": b}]}})
    assert api.call("get-contact", {"contact": {"id": b}}).code == 465


def test_add_contacts_reports_each_item_in_order(api: Api, services: Services) -> None:
    group = api.add_group("G")
    items = [
        {"name": "Ayşe", "gsm": "5321234567", "groups": {"group": {"id": group}}},
        {"name": "", "surname": "", "email": "", "gsm": ""},
        {"name": "Bad number", "gsm": "12"},
        {"name": "Bad group", "groups": {"group": {"id": 999999}}},
        {"name": "Bad field", "custom_fields": {"custom_field": {"id": 999999, "value": "x"}}},
        {"name": "Bad mail", "email": "not-an-email"},
        {"surname": "Demir", "gsm": "+905339876543"},
    ]
    results = api.ok("add-contacts", {"contacts": {"contact": items}}).bulk()
    assert [r["code"] for r in results] == [200, 472, 466, 463, 473, 422, 200]
    assert results[0]["gsm"] == "+905321234567"
    assert results[1]["id"] is None and results[1]["gsm"] is None
    stored = [r["id"] for r in results if r["code"] == 200]
    assert stored[0] < stored[1]
    assert api.ok("get-contact", {"contact": {"id": stored[1]}}).contact()["surname"] == "Demir"
    assert api.ok("get-groups").groups()[0]["count"] == 1


def test_add_contacts_with_one_empty_contact_reports_it(api: Api, services: Services) -> None:
    """``<contact/>`` alone (JSON ``{"contact": {}}``) is one empty item: 472, nothing stored."""
    before = snapshot(services)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><request><authentication>'
        f"<key>{api.key}</key><hash>{api.hash}</hash></authentication>"
        "<contacts><contact/></contacts></request>"
    )
    if api.fmt == "xml":
        reply = api.raw("add-contacts", body.encode())
    else:
        reply = api.call("add-contacts", {"contacts": {"contact": {}}})
    assert reply.code == 200
    assert [r["code"] for r in reply.bulk()] == [472]
    assert snapshot(services) == before


def test_add_contacts_over_limit_is_422_and_stores_nothing(api: Api, services: Services) -> None:
    before = snapshot(services)
    items = [{"name": f"K{i}"} for i in range(10_001)]
    assert api.call("add-contacts", {"contacts": {"contact": items}}).code == 422
    assert snapshot(services) == before


class TestSearch:
    """Runs twice: with contacts still in the search backlog, and after indexing."""

    @pytest.fixture(params=["backlog", "indexed"])
    def people(
        self, api: Api, services: Services, request: pytest.FixtureRequest
    ) -> dict[str, int]:
        ids = self._people(api)
        if request.param == "indexed":
            services.store.index_pending(10_000)
            assert services.store.search_backlog() == 0
        return ids

    def _people(self, api: Api) -> dict[str, int]:
        rows = {
            "ayse": {
                "name": "Ayşe",
                "surname": "Yılmaz",
                "email": "ayse@example.com",
                "gsm": "5321234567",
            },
            "ismail": {"name": "İsmail", "surname": "Işık", "gsm": "+905339876543"},
            "irmak": {"name": "Irmak", "surname": "Çelik", "email": "IRMAK@Ornek.com.tr"},
            "john": {"name": "John", "surname": "Smith", "gsm": "+447911123456"},
        }
        return {k: api.add_contact(**v)["id"] for k, v in rows.items()}

    def _search(self, api: Api, key: str, **paging: object) -> list[int]:
        reply = api.call("search-contacts", {"search": {"key": key, **paging}})
        if reply.code == 465:
            return []
        assert reply.code == 200, reply.body
        return reply.contact_ids()

    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            ("yılmaz", ["ayse"]),
            ("YILMAZ", ["ayse"]),
            ("AYŞE", ["ayse"]),
            ("ayse@", ["ayse"]),
            ("İSMAİL", ["ismail"]),
            ("ismail", ["ismail"]),
            ("IŞIK", ["ismail"]),
            ("ışık", ["ismail"]),
            ("irmak", ["irmak"]),
            ("ornek.com", ["irmak"]),
            ("çelik", ["irmak"]),
            ("ÇELİK", ["irmak"]),
            ("smi", ["john"]),
        ],
    )
    def test_turkish_aware_substring(
        self, api: Api, people: dict[str, int], key: str, expected: list[str]
    ) -> None:
        assert self._search(api, key) == [people[k] for k in expected]

    @pytest.mark.parametrize(
        "key", ["532123", "0532 123", "+90 532 123", "905321234567", "(0532) 123-45-67"]
    )
    def test_number_search_ignores_prefix_and_punctuation(
        self, api: Api, people: dict[str, int], key: str
    ) -> None:
        assert self._search(api, key) == [people["ayse"]]

    def test_no_hits_is_465(self, api: Api, people: dict[str, int]) -> None:
        assert api.call("search-contacts", {"search": {"key": "bulunmaz"}}).code == 465

    @pytest.mark.parametrize("key", ["", "ab", "  a  ", None])
    def test_short_key_is_471(self, api: Api, key: str | None) -> None:
        reply = api.call("search-contacts", {"search": {"key": key}})
        assert (reply.status, reply.code) == (471, 471)
        assert reply.message == "Arama terimi en az 3 karakter olmalıdır."

    def test_search_is_paged(self, api: Api) -> None:
        ids = [api.add_contact(name=f"Ortak {i}")["id"] for i in range(5)]
        assert self._search(api, "ortak", page=2, rowCount=2) == ids[2:4]
        reply = api.call("search-contacts", {"search": {"key": "ortak", "page": 0}})
        assert reply.code == 464

    def test_search_does_not_cross_accounts(self, api: Api, services: Services) -> None:
        api.add_contact(name="Gizli Kişi")
        other = services.accounts.create_account("other").credentials
        assert (
            api.as_other(other.key, other.hash)
            .call("search-contacts", {"search": {"key": "gizli"}})
            .code
            == 465
        )


def test_duplicate_gsm_allowed_by_default(api: Api) -> None:
    a = api.add_contact(name="A", gsm="5321234567")["id"]
    b = api.add_contact(name="B", gsm="05321234567")["id"]
    assert a != b


def test_duplicate_gsm_merge_setting(api: Api, services: Services, account: object) -> None:
    services.accounts.configure(account.account.id, duplicate_gsm="merge")  # type: ignore[attr-defined]
    g1, g2 = api.add_group("G1"), api.add_group("G2")
    first = api.add_contact(name="Ayşe", gsm="5321234567", groups=[g1])
    second = api.add_contact(surname="Yılmaz", gsm="+905321234567", groups=[g2])
    assert second["id"] == first["id"]
    assert (second["name"], second["surname"]) == ("Ayşe", "Yılmaz")
    assert second["groups"] == [g1, g2]


def test_edits_and_deletes_keep_the_search_index_right(api: Api, services: Services) -> None:
    """Edits and deletes of indexed and not-yet-indexed contacts are both reflected."""
    indexed = api.add_contact(name="Eski Ad")["id"]
    services.store.index_pending(100)
    pending = api.add_contact(name="Eski Ad İki")["id"]
    for cid in (indexed, pending):
        api.ok("edit-contact", {"contact": {"id": cid, "name": "Yeni Ad"}})
    assert api.call("search-contacts", {"search": {"key": "eski"}}).code == 465
    assert api.ok("search-contacts", {"search": {"key": "yeni ad"}}).contact_ids() == [
        indexed,
        pending,
    ]
    services.store.index_pending(100)
    assert api.ok("search-contacts", {"search": {"key": "yeni ad"}}).contact_ids() == [
        indexed,
        pending,
    ]
    api.ok("delete-contact", {"contact": {"id": indexed}})
    assert api.ok("search-contacts", {"search": {"key": "yeni ad"}}).contact_ids() == [pending]
    if services.store.dialect == "sqlite":
        with services.store.engine.connect() as conn:
            assert (
                conn.exec_driver_sql(
                    "INSERT INTO contacts_fts(contacts_fts) VALUES ('integrity-check')"
                )
                is not None
            )


# Text that a JSON-carried batch insert could mistake for something else: JSON syntax, numbers
# with leading zeros, "null", quotes, backslashes, Turkish and astral characters, newlines.
_TRICKY_TEXT = [
    "null",
    "0123",
    "1e5",
    "true",
    '{"a": [1, 2]}',
    "[1,2]",
    'O\'Brien "Jr."',
    "back\\slash \\u0041",
    "İĞÜŞÖÇ ığüşöç",
    "emoji 😀 𝄞",
    "line\nbreak\ttab",
    "x" * 255,
]


def test_add_contacts_stores_every_value_exactly(
    api: Api, services: Services, field_ids: tuple[int, int]
) -> None:
    """The batch insert carries each row through SQLite's JSON reader: values come back as
    the same text (never a number, null or JSON), for contacts and custom fields alike."""
    group = api.add_group("G")
    items = [
        {
            "name": text,
            "surname": text[::-1],
            "email": f"kisi{n}@ornek.com.tr",
            "gsm": f"53212345{n:02d}",
            "custom_fields": {"custom_field": [{"id": field_ids[0], "value": text}]},
            "groups": {"group": {"id": group}},
        }
        for n, text in enumerate(_TRICKY_TEXT)
    ]
    results = api.ok("add-contacts", {"contacts": {"contact": items}}).bulk()
    assert [r["code"] for r in results] == [200] * len(items)
    for text, result in zip(_TRICKY_TEXT, results, strict=True):
        contact = api.ok("get-contact", {"contact": {"id": result["id"]}}).contact()
        assert (contact["name"], contact["surname"]) == (text, text[::-1])
        assert contact["custom_fields"] == [{"id": field_ids[0], "value": text}]
        assert contact["groups"] == [group]
    assert api.ok("get-group", {"group": {"id": group}}).group()["count"] == len(items)


def test_search_indexer_takes_the_oldest_of_the_backlog_in_bounded_batches(
    api: Api, services: Services
) -> None:
    items = [{"name": f"Toplu{n:03d}"} for n in range(25)]
    ids = [r["id"] for r in api.ok("add-contacts", {"contacts": {"contact": items}}).bulk()]
    store = services.store
    pending = store.search_backlog()
    assert pending == 25
    assert store.index_pending(10) == 10
    assert store.search_backlog() == 15
    with store.engine.connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT id FROM contacts WHERE search_pending = 1 ORDER BY id"
        ).scalars()
        assert list(left) == ids[10:]
    assert store.index_pending(100) == 15
    assert (store.search_backlog(), store.index_pending(100)) == (0, 0)
    found = api.ok("search-contacts", {"search": {"key": "toplu0"}}).contact_ids()
    assert found == ids[:25]
