"""The vendor's status codes and their Turkish wire messages, in one table.

Every layer raises :class:`ServiceError` with one of these codes; exactly one place (the server's
response writer) turns it into an envelope. The literals follow ``spec.md`` ("Messages").
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    """Vendor status codes used by the Contacts API (HTTP status equals the code)."""

    OK = 200
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    NOT_FOUND = 404
    VALIDATION = 422
    TOO_MANY_REQUESTS = 429
    GROUP_NAME_REQUIRED = 461
    GROUP_ID_REQUIRED = 462
    GROUP_NOT_FOUND = 463
    INVALID_PAGE = 464
    CONTACT_NOT_FOUND = 465
    INVALID_NUMBER = 466
    SEARCH_TERM_TOO_SHORT = 471
    EMPTY_CONTACT = 472
    CUSTOM_FIELD_NOT_FOUND = 473
    SERVICE_UNAVAILABLE = 503


MESSAGES: dict[int, str] = {
    Code.OK: "İşlem başarılı",
    Code.BAD_REQUEST: "İstek çözümlenemedi",
    Code.UNAUTHORIZED: "Üyelik bilgileri hatalı",
    Code.NOT_FOUND: "API istek yapılan yönteme sahip değil",
    Code.VALIDATION: "İstek içerisindeki değerler doğrulanamadı.",
    # The vendor publishes no 429 literal; this one is ours (documented in docs/decisions.md).
    Code.TOO_MANY_REQUESTS: "Çok fazla istek gönderildi.",
    Code.GROUP_NAME_REQUIRED: "Grup adını boş bırakamazsınız.",
    Code.GROUP_ID_REQUIRED: "Grup id alanını boş bırakamazsınız.",
    Code.GROUP_NOT_FOUND: "Böyle bir grup bulunamadı.",
    Code.INVALID_PAGE: "Page değeri 1 den başlamalı.",
    Code.CONTACT_NOT_FOUND: "Kişi bulunamadı.",
    Code.INVALID_NUMBER: "Hatalı numara.",
    Code.SEARCH_TERM_TOO_SHORT: "Arama terimi en az 3 karakter olmalıdır.",
    Code.EMPTY_CONTACT: "Ad, soyad, cep telefonu, email alanlarından en az biri dolu olmalıdır.",
    Code.CUSTOM_FIELD_NOT_FOUND: "Özel alan bulunamadı.",
    Code.SERVICE_UNAVAILABLE: "Sunucu geçici olarak servis dışı",
}


def message_for(code: int) -> str:
    """The Turkish wire message for ``code`` (the 400 text for codes we never emit)."""
    return MESSAGES.get(code, MESSAGES[Code.BAD_REQUEST])


class ServiceError(Exception):
    """A request failed with a vendor status code; no state was changed.

    ``detail`` is for logs and developers only; it never reaches the wire, which carries the
    vendor's literal message.
    """

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(f"{int(code)} {message_for(code)}" + (f" ({detail})" if detail else ""))
        self.code = int(code)
        self.detail = detail

    @property
    def message(self) -> str:
        return message_for(self.code)
