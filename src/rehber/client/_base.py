"""What :class:`~rehber.Client` and :class:`~rehber.AsyncClient` share: everything but the I/O.

A resource method describes its vendor call as a :class:`Call` (a command from
:mod:`rehber.commands` and how to turn the decoded result into the method's return value). The
base turns a call into an ``httpx.Request``, an answer (or a transport error) into a result or
an exception, and decides whether and when to try again. The two clients only send requests
and sleep, each in its own way.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias, TypeVar

import httpx

from rehber.client._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    RateLimitError,
    RehberError,
    ServiceUnavailableError,
    status_error,
)
from rehber.codes import MESSAGES, Code
from rehber.commands import Command
from rehber.credentials import derive_hash
from rehber.wire.actions import ACTIONS, Action, Result
from rehber.wire.client_requests import encode_request
from rehber.wire.client_responses import ShapeError, decode_result, read_envelope

T = TypeVar("T")
Format: TypeAlias = Literal["json", "xml"]
Outcome: TypeAlias = T | RehberError

DEFAULT_BASE_URL = "https://api.iletimerkezi.com/v1/"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for; the usual backoff applies instead.
MAX_RETRY_AFTER = 60.0
USER_AGENT = "rehber-python"

# Every add-* action creates something, so repeating one whose answer was lost could create it
# twice. Every other action reads, or sets a state that a repeat leaves the same.
RETRY_SAFE: frozenset[str] = frozenset(name for name in ACTIONS if not name.startswith("add-"))
_ACTION_OF: dict[type, Action] = {a.command: a for a in ACTIONS.values()}

log = logging.getLogger("rehber.client")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One vendor call as data: the command to send and how to read what it answers."""

    command: Command
    convert: Callable[[Result], T]

    @property
    def action(self) -> Action:
        return _ACTION_OF[type(self.command)]

    @property
    def retry_safe(self) -> bool:
        return self.action.name in RETRY_SAFE


def retry_delay(
    attempt: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``attempt + 1``.

    The server's ``Retry-After`` when it gives a sane one; else exponential backoff from
    :data:`INITIAL_RETRY_DELAY`, capped at :data:`MAX_RETRY_DELAY`, up to 25 % shorter at random
    so that clients failing together do not come back together.

    >>> retry_delay(0, rand=lambda: 0.0), retry_delay(3, rand=lambda: 1.0), retry_delay(9, 2.5)
    (0.5, 3.0, 2.5)
    """
    if retry_after is not None and 0 <= retry_after <= MAX_RETRY_AFTER:
        return retry_after
    return min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY) * (1 - 0.25 * rand())


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date), ``None`` if unusable.

    >>> parse_retry_after("1.5"), parse_retry_after("soon")
    (1.5, None)
    """
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return float(moment.timestamp()) - (time.time() if now is None else now)


def normalise_base_url(url: str) -> str:
    """``url`` with a trailing slash; a bare host gets the vendor's ``/v1/`` prefix.

    >>> normalise_base_url("http://127.0.0.1:8080"), normalise_base_url("https://x/v1")
    ('http://127.0.0.1:8080/v1/', 'https://x/v1/')
    """
    parsed = httpx.URL(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"base_url must be an http(s) URL, not {url!r}")
    path = parsed.path if parsed.path not in ("", "/") else "/v1/"
    return str(parsed.copy_with(path=path if path.endswith("/") else path + "/"))


class Credentials:
    """The key and hash, kept out of every repr (``vars(client)``, debuggers, error reporters)."""

    __slots__ = ("hash", "key")

    def __init__(self, key: str, hash: str) -> None:
        self.key = key
        self.hash = hash

    def __repr__(self) -> str:
        return f"<Credentials key={self.key[:4]}…>"


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an argument left out (where ``None`` means something)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: ``timeout`` left out: the ``http_client``'s own, else :data:`DEFAULT_TIMEOUT`.
NOT_GIVEN = NotGiven()


class BaseClient:
    """Configuration, request building, answer decoding and the retry rule; no I/O."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        *,
        key: str | None,
        hash: str | None,
        secret: str | None,
        base_url: str | None,
        format: Format,
        timeout: float | httpx.Timeout | NotGiven | None,
        max_retries: int,
    ) -> None:
        env = os.environ
        key = (key if key is not None else env.get("REHBER_API_KEY", "")).strip()
        if not key:
            raise RehberError("No API key: pass key=... or set REHBER_API_KEY.")
        if secret is not None and hash is not None:
            raise RehberError("Pass hash=... or secret=..., not both.")
        if secret is not None:
            hash = derive_hash(key, secret)
        hash = (hash if hash is not None else env.get("REHBER_API_HASH", "")).strip()
        if not hash:
            raise RehberError("No API hash: pass hash=... (or secret=...) or set REHBER_API_HASH.")
        if format not in ("json", "xml"):
            raise ValueError(f"format must be 'json' or 'xml', not {format!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._credentials = Credentials(key, hash)
        self.base_url = normalise_base_url(
            base_url or env.get("REHBER_BASE_URL") or DEFAULT_BASE_URL
        )
        self.format: Format = format
        self._timeout = None if isinstance(timeout, NotGiven) else _as_timeout(timeout)
        self.max_retries = max_retries
        content_type = f"application/{format}; charset=utf-8"
        self._headers = {
            "Content-Type": content_type,
            "Accept": f"application/{format}",
            "User-Agent": f"{USER_AGENT}/{_version()}",
        }

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout every request is sent with.

        ``timeout=`` when it was given (``None``: no timeout), else the timeout of the
        ``http_client`` in use: the one passed in, as configured there (read at each request),
        or the client's own, built with :data:`DEFAULT_TIMEOUT`.

        Example::

            rehber.Client(http_client=httpx.Client(timeout=5.0)).timeout  # Timeout(timeout=5.0)
        """
        return self._timeout if self._timeout is not None else self._http.timeout

    @timeout.setter
    def timeout(self, value: float | httpx.Timeout | None) -> None:
        self._timeout = _as_timeout(value)

    def _own_timeout(self) -> httpx.Timeout:
        """The timeout of an http client this client builds for itself."""
        return self._timeout if self._timeout is not None else DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        # Never the key or the hash: reprs end up in logs and tracebacks.
        return f"<{type(self).__name__} base_url={self.base_url!r} format={self.format!r}>"

    def _url(self, action: Action) -> str:
        return f"{self.base_url}{action.name}{'/json' if self.format == 'json' else ''}"

    def _build_request(self, call: Call[T]) -> httpx.Request:
        key, hash_value = self._credentials.key, self._credentials.hash
        body = encode_request(self.format, call.command, key, hash_value)
        return httpx.Request(
            "POST",
            self._url(call.action),
            content=body,
            headers=self._headers,
            extensions={"timeout": self.timeout.as_dict()},
        )

    def _conclude(
        self, call: Call[T], request: httpx.Request, sent: httpx.Response | httpx.TransportError
    ) -> Outcome[T]:
        """The result of one attempt, or the error it ended in (returned, not raised)."""
        if isinstance(sent, httpx.Response):
            try:
                return self._decode(call, sent)
            except RehberError as error:
                return error
        failure: RehberError
        if isinstance(sent, httpx.TimeoutException):
            failure = APITimeoutError(request=request)
        else:
            detail = str(sent) or "no details"
            failure = APIConnectionError(
                f"Connection error ({type(sent).__name__}: {detail})", request=request
            )
        failure.__cause__ = sent
        return failure

    def _decode(self, call: Call[T], response: httpx.Response) -> T:
        envelope = read_envelope(response.content)
        body_code = envelope.code if envelope is not None else None
        if body_code is None and response.is_success:
            raise APIResponseValidationError(
                f"{call.action.name}: the answer is not a vendor envelope", response=response
            )
        # The body's code decides; a 200 in a body the HTTP status calls a failure does not.
        if body_code is not None and body_code != Code.OK:
            code = body_code
        else:
            code = Code.OK if response.is_success else response.status_code
        if code != Code.OK:
            message = envelope.message if envelope and envelope.code == code else ""
            message = message or MESSAGES.get(code, response.reason_phrase)
            raise status_error(code, message, response)
        assert envelope is not None
        try:
            return call.convert(decode_result(call.action.result, envelope.content))
        except ShapeError as error:
            raise APIResponseValidationError(
                f"{call.action.name}: {error}", response=response
            ) from None

    def _retry_delay(self, call: Call[T], attempt: int, outcome: Outcome[T]) -> float | None:
        """Seconds to wait before trying ``call`` again, or ``None`` to stop here."""
        if attempt >= self.max_retries or not call.retry_safe:
            return None
        if isinstance(outcome, (ServiceUnavailableError, RateLimitError)):
            header = outcome.response.headers.get("Retry-After")
            delay = retry_delay(attempt, parse_retry_after(header))
        elif isinstance(outcome, APIConnectionError):
            delay = retry_delay(attempt)
        else:
            return None
        log.info(
            "%s failed (%s); retry %d of %d in %.2fs",
            call.action.name,
            type(outcome).__name__,
            attempt + 1,
            self.max_retries,
            delay,
        )
        return delay


def _as_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _version() -> str:
    from rehber import __version__

    return __version__
