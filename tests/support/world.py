"""The address book the documented examples describe (groups 97101/97489/97102, contacts
1007/1008, custom fields 1 and 2), written with explicit ids through the storage layer."""

from __future__ import annotations

from rehber.server.app import Services
from rehber.service.text import search_text
from rehber.storage.repository import ContactRow, Repository

FIELDS = {1: "Doğum tarihi", 2: "Segment"}
GROUPS = [
    (97101, "Müşteriler", None),
    (97489, "VIP Müşteriler", 97101),
    (97102, "Tedarikçiler", None),
]
CONTACTS = [
    (
        1007,
        "Ayşe",
        "Yılmaz",
        "ayse@example.com",
        "+905321234567",
        {1: "27/09/2024", 2: "VIP"},
        [97101, 97489],
    ),
    (1008, "Mehmet", "Demir", "", "+905339876543", {}, [97101]),
]


def seed(
    services: Services,
    account_id: int,
    *,
    groups: tuple[int, ...] = (97101, 97489, 97102),
    contacts: bool = True,
    next_group: int | None = None,
    next_contact: int | None = None,
) -> None:
    def work(repo: Repository) -> None:
        for field_id, name in FIELDS.items():
            repo.create_field(account_id, name, field_id)
        for group_id, name, parent in GROUPS:
            if group_id in groups:
                repo.insert_group(account_id, name, parent, group_id)
        if contacts:
            for cid, name, surname, email, gsm, values, member_of in CONTACTS:
                row = ContactRow(name, surname, email, gsm, search_text(name, surname, email, gsm))
                repo.insert_contacts(account_id, [row], [cid])
                repo.insert_field_values(account_id, [(cid, f, v) for f, v in values.items()])
                repo.add_memberships(account_id, [(g, cid) for g in member_of])
        repo.set_next_ids(
            custom_fields=10,
            groups=next_group or 100_000,
            contacts=next_contact or 10_000,
        )

    services.store.write(work)
