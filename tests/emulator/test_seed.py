"""``POST /_rehber/seed``: fixtures in JSON and YAML, ids keyed for tests, all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rehber.testing import ControlError, EmulatorAccount, EmulatorControl

FIXTURE: dict[str, Any] = {
    "custom_fields": ["Doğum tarihi", {"name": "Segment", "ref": "segment"}],
    "groups": [
        {
            "name": "Müşteriler",
            "children": [
                {"name": "VIP Müşteriler", "ref": "vip", "children": [{"name": "Altın"}]},
            ],
        },
        {"name": "Tedarikçiler"},
    ],
    "contacts": [
        {
            "ref": "ayse",
            "name": "Ayşe",
            "surname": "Yılmaz",
            "email": "ayse@example.com",
            "gsm": "0532 123 45 67",
            "custom_fields": {"Doğum tarihi": "27/09/2024", "segment": "VIP"},
            "groups": ["Müşteriler", "vip"],
        },
        {"name": "Mehmet", "gsm": 5339876543, "groups": ["vip/Altın"]},
    ],
}

YAML_FIXTURE = """\
custom_fields: [Doğum tarihi]
groups:
  - name: Müşteriler
    children:
      - name: VIP
contacts:
  - ref: ayse
    name: Ayşe
    gsm: "05321234567"
    groups: [Müşteriler/VIP]
    custom_fields: {Doğum tarihi: 27/09/2024}
"""


def test_seed_creates_the_tree_and_returns_keyed_ids(alice: EmulatorAccount) -> None:
    ids = alice.seed(FIXTURE)
    assert ids["account_id"] == alice.account_id
    assert set(ids["custom_fields"]) == {"Doğum tarihi", "segment"}
    assert set(ids["groups"]) == {"Müşteriler", "vip", "vip/Altın", "Tedarikçiler"}
    assert list(ids["contacts"]) == ["ayse"]
    assert ids["contact_ids"][0] == ids["contacts"]["ayse"]
    groups = alice.http.call("get-groups")["groups"]
    assert [g["name"] for g in groups] == ["Müşteriler", "Tedarikçiler"]
    vip = groups[0]["children"][0]
    assert (vip["id"], vip["count"]) == (ids["groups"]["vip"], 1)
    assert (vip["children"][0]["id"], vip["children"][0]["count"]) == (
        ids["groups"]["vip/Altın"],
        1,
    )
    ayse = alice.http.call("get-contact", {"contact": {"id": ids["contacts"]["ayse"]}})["contact"]
    assert ayse["gsm"] == "+905321234567"
    assert ayse["groups"] == sorted([ids["groups"]["Müşteriler"], ids["groups"]["vip"]])
    assert {f["id"]: f["value"] for f in ayse["custom_fields"]} == {
        ids["custom_fields"]["Doğum tarihi"]: "27/09/2024",
        ids["custom_fields"]["segment"]: "VIP",
    }
    found = alice.http.call("search-contacts", {"search": {"key": "yılmaz"}})
    assert [c["id"] for c in found["contacts"]] == [ids["contacts"]["ayse"]]


def test_seed_ids_follow_fixture_order(alice: EmulatorAccount) -> None:
    ids = alice.seed(FIXTURE)
    group_ids = list(ids["groups"].values())
    assert group_ids == sorted(group_ids)  # parents before children, in fixture order
    assert ids["contact_ids"] == sorted(ids["contact_ids"])


def test_seed_from_yaml_body_and_file(
    alice: EmulatorAccount, http: TestClient, tmp_path: Path
) -> None:
    response = http.post(
        f"/_rehber/seed?account_id={alice.account_id}",
        content=YAML_FIXTURE.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    assert set(response.json()["groups"]) == {"Müşteriler", "Müşteriler/VIP"}
    path = tmp_path / "fixture.yaml"
    path.write_text(YAML_FIXTURE.replace("ref: ayse", "ref: ayse2"))
    again = alice.seed(path)
    assert again["contacts"]["ayse2"] > response.json()["contacts"]["ayse"]


def test_seed_may_refer_to_existing_groups_and_fields(alice: EmulatorAccount) -> None:
    first = alice.seed({"custom_fields": ["Segment"], "groups": [{"name": "Eski"}]})
    old_group, old_field = first["groups"]["Eski"], first["custom_fields"]["Segment"]
    second = alice.seed(
        {
            "groups": [{"name": "Alt", "parent": old_group}],
            "contacts": [
                {
                    "ref": "x",
                    "name": "X",
                    "groups": [old_group, str(old_group)],
                    "custom_fields": {str(old_field): "A"},
                }
            ],
        }
    )
    contact = alice.http.call("get-contact", {"contact": {"id": second["contacts"]["x"]}})
    assert contact["contact"]["groups"] == [old_group]
    tree = alice.http.call("get-group", {"group": {"id": old_group}})["group"]
    assert tree["children"][0]["id"] == second["groups"]["Alt"]


def test_seed_account_in_body(control: EmulatorControl, alice: EmulatorAccount) -> None:
    result = control.http.post(
        "/_rehber/seed", json={"account_id": alice.account_id, "groups": [{"name": "G"}]}
    )
    assert result.status_code == 201


def _nothing_stored(account: EmulatorAccount) -> None:
    assert account.http.call("get-groups")["groups"] == []
    assert account.http.call("search-contacts", {"search": {"key": "+90"}}).status == 465


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ({"name": "Bad", "gsm": "123"}, "contacts[1]: 466"),
        ({"name": "Bad", "email": "not-an-address"}, "contacts[1]: 422"),
        ({"gsm": ""}, "contacts[1]: 472"),
        ({"name": "Bad", "groups": ["no-such-group"]}, "no group 'no-such-group'"),
        ({"name": "Bad", "groups": [999999999]}, "no group 999999999"),
        ({"name": "Bad", "custom_fields": {"nope": "x"}}, "no custom field 'nope'"),
        ({"name": "Bad", "custom_fields": {"Segment": "x" * 1001}}, "contacts[1]: 422"),
    ],
)
def test_seed_is_all_or_nothing(
    alice: EmulatorAccount, contact: dict[str, Any], message: str
) -> None:
    fixture = {
        "custom_fields": ["Segment"],
        "groups": [{"name": "G", "children": [{"name": "H"}]}],
        "contacts": [{"name": "Good", "gsm": "05321234567", "groups": ["G/H"]}, contact],
    }
    with pytest.raises(ControlError) as refused:
        alice.seed(fixture)
    assert refused.value.status == 422
    assert message in refused.value.message
    _nothing_stored(alice)
    fields_after = alice.seed({"custom_fields": ["Segment"]})["custom_fields"]
    assert list(fields_after) == ["Segment"]  # no "Segment" was left behind to clash with


def test_seed_with_unknown_parent_group_stores_nothing(alice: EmulatorAccount) -> None:
    with pytest.raises(ControlError) as refused:
        alice.seed({"groups": [{"name": "A"}, {"name": "B", "parent": 987654321}]})
    assert refused.value.status == 422
    _nothing_stored(alice)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ({"group": []}, "unknown key(s) group"),
        ({"groups": {"name": "x"}}, "'groups' must be a list"),
        ({"groups": [{"name": "x", "kids": []}]}, "groups[0]: unknown key(s) kids"),
        ({"groups": [{"name": "x", "children": [{"name": "y", "parent": 1}]}]}, "unknown key"),
        ({"groups": [{"name": "x", "parent": "1"}]}, "'parent' must be the id"),
        ({"groups": [{"name": "x"}, {"name": "x"}]}, "two groups have the key 'x'"),
        ({"contacts": [{"ref": "a", "name": "A"}, {"ref": "a", "name": "B"}]}, "two contacts"),
        ({"contacts": [{"name": "A", "groups": "x"}]}, "'groups' must be a list"),
        ({"contacts": [{"name": "A", "gsm": True}]}, "'gsm' must be a string"),
        ({"contacts": ["A"]}, "contacts[0] must be an object"),
        ({"custom_fields": [{"name": ""}]}, "needs a name"),
        ({"account_id": "x"}, "'account_id' must be an integer"),
    ],
)
def test_bad_fixture_shape_is_rejected(
    alice: EmulatorAccount, http: TestClient, fixture: dict[str, Any], message: str
) -> None:
    response = http.post(f"/_rehber/seed?account_id={alice.account_id}", json=fixture)
    assert response.status_code in (400, 422), response.text
    assert message in response.json()["error"]["message"]
    _nothing_stored(alice)


def test_seed_needs_a_known_account(http: TestClient, alice: EmulatorAccount) -> None:
    assert http.post("/_rehber/seed", json={"groups": []}).status_code == 400
    assert http.post("/_rehber/seed?account_id=987654", json={}).status_code == 404
    clash = http.post(
        f"/_rehber/seed?account_id={alice.account_id}", json={"account_id": alice.account_id + 1}
    )
    assert clash.status_code == 400
    assert http.post("/_rehber/seed?acount_id=1", json={}).status_code == 400


def test_unreadable_fixtures_are_400(http: TestClient, alice: EmulatorAccount) -> None:
    url = f"/_rehber/seed?account_id={alice.account_id}"
    assert http.post(url, content=b"groups: [").status_code == 400  # YAML sent as JSON
    bad_yaml = http.post(url, content=b"a: [", headers={"content-type": "text/yaml"})
    assert bad_yaml.status_code == 400
    assert "YAML" in bad_yaml.json()["error"]["message"]
