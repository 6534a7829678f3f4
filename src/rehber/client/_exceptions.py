"""Everything the client raises, in one tree::

    RehberError                       anything raised by rehber.Client / rehber.AsyncClient
    ├── APIConnectionError            no answer: refused, reset, dropped, DNS, TLS, ...
    │   └── APITimeoutError           no answer within ``timeout``
    ├── APIResponseValidationError    an answer that is not a readable vendor envelope
    └── APIStatusError                the API answered with a status code other than 200
        ├── BadRequestError           400  İstek çözümlenemedi
        ├── AuthenticationError       401  Üyelik bilgileri hatalı
        ├── NotFoundError             404  API istek yapılan yönteme sahip değil
        ├── ValidationError           422  İstek içerisindeki değerler doğrulanamadı.
        ├── GroupNameRequiredError    461  Grup adını boş bırakamazsınız.
        ├── GroupIdRequiredError      462  Grup id alanını boş bırakamazsınız.
        ├── GroupNotFoundError        463  Böyle bir grup bulunamadı.
        ├── InvalidPageError          464  Page değeri 1 den başlamalı.
        ├── ContactNotFoundError      465  Kişi bulunamadı.
        ├── InvalidNumberError        466  Hatalı numara.
        ├── SearchTermTooShortError   471  Arama terimi en az 3 karakter olmalıdır.
        ├── EmptyContactError         472  Ad, soyad, cep telefonu, email ... dolu olmalıdır.
        ├── CustomFieldNotFoundError  473  Özel alan bulunamadı.
        ├── RateLimitError            429  Çok fazla istek gönderildi.  (rehber's rate limit)
        └── ServiceUnavailableError   503  Sunucu geçici olarak servis dışı

Any other code (a proxy's 502, ...) raises :class:`APIStatusError` itself. The class is
chosen in one place, :func:`status_error`, from the code in the response body (HTTP status when
the body has none). Messages and reprs name the code, the vendor's text and the path called,
never the credentials: those travel only in request bodies (reachable as
``exc.response.request.content``, never printed).

Every exception pickles (for ``multiprocessing``, ``concurrent.futures``, task queues): it comes
back as the same class with the same ``args``, ``code``, ``message`` and other attributes, and
``response`` / ``request`` as ``httpx`` objects with their method, URL, status, headers and
answer body. What could hold a secret stays behind: request bodies (the key and hash), the
``Authorization``, ``Proxy-Authorization`` and ``Cookie`` headers, and user info in URLs. The
same goes for ``copy.copy`` and ``copy.deepcopy``, which use the same protocol.

Example::

    try:
        client.contacts.get(42)
    except rehber.ContactNotFoundError:
        ...
    except rehber.APIStatusError as exc:
        print(exc.code, exc.message)
"""

from __future__ import annotations

from typing import Any

import httpx


class RehberError(Exception):
    """Base of every error the client raises.

    Example::

        try:
            client.groups.list()
        except rehber.RehberError as exc:
            log.warning("address book unavailable: %s", exc)

    Pickling keeps everything but the secrets (see the module docstring)::

        restored = pickle.loads(pickle.dumps(exc))
        assert type(restored) is type(exc) and restored.args == exc.args
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # By state, not by calling __init__ again (the subclasses take keyword-only arguments
        # that are not in ``args``), and with every httpx object scrubbed of credentials.
        state = {name: _scrubbed(value) for name, value in vars(self).items()}
        return (_restore, (type(self), self.args, state))


class APIConnectionError(RehberError):
    """The request got no answer (connection refused or dropped, DNS, TLS, ...).

    Example::

        try:
            client.groups.list()
        except rehber.APIConnectionError:
            ...  # retried max_retries times already, for calls safe to repeat
    """

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """No answer within the client's ``timeout``.

    Example::

        client = rehber.Client(timeout=5.0)
        try:
            client.groups.list()
        except rehber.APITimeoutError:
            ...
    """

    def __init__(self, *, request: httpx.Request) -> None:
        super().__init__("Request timed out.", request=request)


class APIResponseValidationError(RehberError):
    """The server answered, but not with a vendor envelope the client can read.

    Example::

        try:
            client.groups.list()
        except rehber.APIResponseValidationError as exc:
            print(exc.response.status_code, exc.response.text[:200])
    """

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response


class APIStatusError(RehberError):
    """The API answered with a status code other than 200; nothing was changed.

    ``code`` is the vendor status code (``response.status.code``), ``message`` its Turkish text,
    ``response`` the ``httpx.Response``.

    Example::

        try:
            client.groups.create("")
        except rehber.APIStatusError as exc:
            assert exc.code == 461 and exc.message == "Grup adını boş bırakamazsınız."
    """

    #: The vendor code this class stands for (``None`` on the base class).
    expected_code: int | None = None

    def __init__(self, code: int, message: str, response: httpx.Response) -> None:
        request = response.request
        super().__init__(f"{code} {message} ({request.method} {request.url.path})".strip())
        self.code = code
        self.message = message
        self.response = response

    @property
    def status_code(self) -> int:
        """The HTTP status of the answer (equal to ``code`` on a conforming server)."""
        return self.response.status_code


class BadRequestError(APIStatusError):
    """400: the request body could not be read (a client bug: please report it).

    Example::

        except rehber.BadRequestError as exc:
            exc.code  # 400
    """

    expected_code = 400


class AuthenticationError(APIStatusError):
    """401: the key and hash were not accepted (or API access is off, or the IP is not allowed).

    Example::

        except rehber.AuthenticationError as exc:
            exc.code  # 401
    """

    expected_code = 401


class NotFoundError(APIStatusError):
    """404: the server has no such method (check ``base_url``: it must end in ``/v1/``).

    Example::

        except rehber.NotFoundError as exc:
            exc.code  # 404
    """

    expected_code = 404


class ValidationError(APIStatusError):
    """422: a value was refused (bad e-mail, name too long, too many contacts in a batch, ...).

    Example::

        except rehber.ValidationError as exc:
            exc.code  # 422
    """

    expected_code = 422


class GroupNameRequiredError(APIStatusError):
    """461: the group name is empty.

    Example::

        except rehber.GroupNameRequiredError as exc:
            exc.code  # 461
    """

    expected_code = 461


class GroupIdRequiredError(APIStatusError):
    """462: the group id is missing.

    Example::

        except rehber.GroupIdRequiredError as exc:
            exc.code  # 462
    """

    expected_code = 462


class GroupNotFoundError(APIStatusError):
    """463: no such group in this account (also for a parent or a group in ``groups``).

    Example::

        except rehber.GroupNotFoundError as exc:
            exc.code  # 463
    """

    expected_code = 463


class InvalidPageError(APIStatusError):
    """464: the page number is below 1.

    Example::

        except rehber.InvalidPageError as exc:
            exc.code  # 464
    """

    expected_code = 464


class ContactNotFoundError(APIStatusError):
    """465: no such contact (the paging iterators read it as "no more contacts").

    Example::

        except rehber.ContactNotFoundError as exc:
            exc.code  # 465
    """

    expected_code = 465


class InvalidNumberError(APIStatusError):
    """466: the gsm number is not a valid phone number.

    Example::

        except rehber.InvalidNumberError as exc:
            exc.code  # 466
    """

    expected_code = 466


class SearchTermTooShortError(APIStatusError):
    """471: the search term is shorter than 3 characters.

    Example::

        except rehber.SearchTermTooShortError as exc:
            exc.code  # 471
    """

    expected_code = 471


class EmptyContactError(APIStatusError):
    """472: name, surname, e-mail and gsm are all empty.

    Example::

        except rehber.EmptyContactError as exc:
            exc.code  # 472
    """

    expected_code = 472


class CustomFieldNotFoundError(APIStatusError):
    """473: a custom-field id is not defined in this account.

    Example::

        except rehber.CustomFieldNotFoundError as exc:
            exc.code  # 473
    """

    expected_code = 473


class RateLimitError(APIStatusError):
    """429: too many requests for this key (rehber's own code; the vendor publishes none).

    Retried after the server's ``Retry-After`` for calls safe to repeat, like 503.

    Example::

        except rehber.RateLimitError as exc:
            exc.response.headers.get("Retry-After")
    """

    expected_code = 429


class ServiceUnavailableError(APIStatusError):
    """503: the server is temporarily unavailable (retried for calls safe to repeat).

    Example::

        except rehber.ServiceUnavailableError as exc:
            exc.code  # 503
    """

    expected_code = 503


_BY_CODE: dict[int, type[APIStatusError]] = {
    cls.expected_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        NotFoundError,
        ValidationError,
        GroupNameRequiredError,
        GroupIdRequiredError,
        GroupNotFoundError,
        InvalidPageError,
        ContactNotFoundError,
        InvalidNumberError,
        SearchTermTooShortError,
        EmptyContactError,
        CustomFieldNotFoundError,
        RateLimitError,
        ServiceUnavailableError,
    )
    if cls.expected_code is not None
}


# Request headers that can carry credentials (an ``http_client`` passed in may add them).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _restore(cls: type[RehberError], args: tuple[Any, ...], state: dict[str, Any]) -> RehberError:
    """Unpickle a :class:`RehberError` without calling its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _scrubbed(value: Any) -> Any:
    """``value`` as it may be pickled: httpx requests without body and secret headers."""
    if isinstance(value, httpx.Request):
        return _bodiless(value)
    if isinstance(value, httpx.Response):
        # The response's own pickle state (status, headers, the body as read, ...), with the
        # request it carries (and any redirect history or next request) scrubbed in turn.
        clone = httpx.Response.__new__(httpx.Response)
        clone.__setstate__({k: _scrubbed(v) for k, v in value.__getstate__().items()})
        return clone
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def _bodiless(request: httpx.Request) -> httpx.Request:
    headers = [
        (name, text)
        for name, text in request.headers.multi_items()
        if name.lower() not in _SECRET_HEADERS and name.lower() != "content-length"
    ]
    url = request.url.copy_with(userinfo=b"") if request.url.userinfo else request.url
    return httpx.Request(request.method, url, headers=headers)


def status_error(code: int, message: str, response: httpx.Response) -> APIStatusError:
    """The exception for a non-200 vendor ``code``: the one place a class is chosen.

    >>> status_error(465, "Kişi bulunamadı.", response).__class__.__name__  # doctest: +SKIP
    'ContactNotFoundError'
    """
    return _BY_CODE.get(code, APIStatusError)(code, message, response)


__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContactNotFoundError",
    "CustomFieldNotFoundError",
    "EmptyContactError",
    "GroupIdRequiredError",
    "GroupNameRequiredError",
    "GroupNotFoundError",
    "InvalidNumberError",
    "InvalidPageError",
    "NotFoundError",
    "RateLimitError",
    "RehberError",
    "SearchTermTooShortError",
    "ServiceUnavailableError",
    "ValidationError",
    "status_error",
]
