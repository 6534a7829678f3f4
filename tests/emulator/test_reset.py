"""``POST /_rehber/reset``: one account's data (others untouched) or the whole emulator."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rehber.testing import ControlError, EmulatorAccount, EmulatorControl

FIXTURE = {
    "custom_fields": ["Segment"],
    "groups": [{"name": "Müşteriler", "children": [{"name": "VIP"}]}],
    "contacts": [
        {"ref": "a", "name": "Ayşe", "gsm": "05321234567", "groups": ["Müşteriler/VIP"]},
        {"ref": "m", "name": "Mehmet", "custom_fields": {"Segment": "B"}},
    ],
}


def _state(account: EmulatorAccount) -> tuple[object, object]:
    groups = account.http.call("get-groups").data
    found = account.http.call("search-contacts", {"search": {"key": "Ayşe"}}).data
    return groups, found


def test_reset_one_account_leaves_others_intact(
    alice: EmulatorAccount, bob: EmulatorAccount, control: EmulatorControl
) -> None:
    alice_ids = alice.seed(FIXTURE)
    bob.seed(FIXTURE)
    alice.http.call("get-groups")
    bob.http.call("get-groups")
    alice.fault("get-contact", code=503, count=5)
    bob.fault("get-contact", code=503, count=5)
    bob_before = _state(bob)
    bob_journal = bob.requests()

    assert alice.reset() == {"reset": "account", "account_id": alice.account_id}

    assert alice.http.call("get-groups")["groups"] == []  # the credentials still work
    assert alice.http.call("search-contacts", {"search": {"key": "Ayşe"}}).status == 465
    gone = alice_ids["contacts"]["a"]
    assert alice.http.call("get-contact", {"contact": {"id": gone}}).status == 465
    assert control.faults(alice.account_id) == []
    assert [e["action"] for e in alice.requests()] == [
        "get-groups",
        "search-contacts",
        "get-contact",
    ]
    assert _state(bob) == bob_before
    assert bob.requests()[: len(bob_journal)] == bob_journal
    assert len(control.faults(bob.account_id)) == 1
    again = alice.seed(FIXTURE)  # field names and refs are free again
    assert again["custom_fields"]["Segment"] != alice_ids["custom_fields"]["Segment"]


def test_reset_all_empties_the_emulator(
    alice: EmulatorAccount, bob: EmulatorAccount, control: EmulatorControl
) -> None:
    alice.seed(FIXTURE)
    control.add_fault("*", code=503, count=100)
    result = control.reset(everything=True)
    assert result == {"reset": "all", "next_id": 1}
    assert control.faults() == []
    assert alice.http.call("get-groups").status == 401  # accounts are gone too
    assert bob.http.call("get-groups").status == 401
    assert len(control.requests()) == 2
    fresh = control.create_account()
    assert fresh.account_id == 1
    ids = fresh.seed(FIXTURE)
    assert ids["groups"] == {"Müşteriler": 1, "Müşteriler/VIP": 2}
    assert ids["contact_ids"] == [1, 2]
    assert ids["custom_fields"] == {"Segment": 1}


@pytest.mark.parametrize(
    "body",
    [{}, {"account_id": 1, "all": True}, {"all": False}, {"account_id": "one"}, {"everything": 1}],
)
def test_bad_reset_input_is_400(http: TestClient, body: dict[str, object]) -> None:
    response = http.post("/_rehber/reset", json=body)
    assert response.status_code == 400
    assert "reset" in response.json()["error"]["message"]


def test_reset_of_unknown_account_is_404(control: EmulatorControl) -> None:
    with pytest.raises(ControlError) as missing:
        control.reset(987654)
    assert missing.value.status == 404
