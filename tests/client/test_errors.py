"""Construction, the exception tree, how answers become exceptions, and credential hygiene."""

from __future__ import annotations

import asyncio
import copy
import logging
import pickle
import traceback

import httpx
import pytest

import rehber
from rehber import Client
from rehber.client import _exceptions
from rehber.client._exceptions import status_error
from rehber.codes import MESSAGES
from rehber.credentials import derive_hash
from tests.client.conftest import Api
from tests.client.scripted import Drop, Hang, Reply, ScriptedServer, Step

KEY = "3ea65b1e8ba4c7d2f0e1a2b3c4d5e6f7"
HASH = "e8e20e5dcff5ea6ae6e5adf849bbfe66affb0782f384ec16083f290d401ecd41"
SECRET = "example-secret-key"
ENV = ("REHBER_API_KEY", "REHBER_API_HASH", "REHBER_BASE_URL")


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [rehber.Client, rehber.AsyncClient])
def test_defaults_and_env_fallbacks(cls: type[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    client = cls(key=KEY, hash=HASH)
    assert client.base_url == "https://api.iletimerkezi.com/v1/"
    assert (client.format, client.max_retries) == ("json", 2)
    monkeypatch.setenv("REHBER_API_KEY", KEY)
    monkeypatch.setenv("REHBER_API_HASH", HASH)
    monkeypatch.setenv("REHBER_BASE_URL", "http://127.0.0.1:8080")
    from_env = cls(format="xml")
    assert (from_env._credentials.key, from_env._credentials.hash) == (KEY, HASH)
    assert from_env.base_url == "http://127.0.0.1:8080/v1/"
    explicit = cls(key="k2", hash="h2", base_url="https://rehber.example/api/v1")
    assert (explicit._credentials.key, explicit._credentials.hash) == ("k2", "h2")
    assert explicit.base_url == "https://rehber.example/api/v1/"


def test_env_is_read_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHBER_API_KEY", KEY)
    monkeypatch.setenv("REHBER_API_HASH", HASH)
    client = Client()
    monkeypatch.setenv("REHBER_API_KEY", "changed")
    assert client._credentials.key == KEY


def test_secret_derives_the_hash() -> None:
    assert Client(key=KEY, secret=SECRET)._credentials.hash == derive_hash(KEY, SECRET) == HASH


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({}, "No API key"),
        ({"key": "  "}, "No API key"),
        ({"key": KEY}, "No API hash"),
        ({"key": KEY, "hash": ""}, "No API hash"),
        ({"key": KEY, "hash": HASH, "secret": SECRET}, "not both"),
    ],
)
def test_missing_credentials_fail_at_construction(kwargs: dict[str, str], problem: str) -> None:
    with pytest.raises(rehber.RehberError, match=problem):
        Client(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "yaml"},
        {"max_retries": -1},
        {"base_url": "ftp://example.com/v1/"},
        {"base_url": "127.0.0.1:8080"},
    ],
)
def test_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Client(key=KEY, hash=HASH, **kwargs)  # type: ignore[arg-type]


# -- the exception tree -------------------------------------------------------------------


def test_one_class_per_vendor_code() -> None:
    expected = {
        400: "BadRequestError",
        401: "AuthenticationError",
        404: "NotFoundError",
        422: "ValidationError",
        461: "GroupNameRequiredError",
        462: "GroupIdRequiredError",
        463: "GroupNotFoundError",
        464: "InvalidPageError",
        465: "ContactNotFoundError",
        466: "InvalidNumberError",
        471: "SearchTermTooShortError",
        472: "EmptyContactError",
        473: "CustomFieldNotFoundError",
        429: "RateLimitError",
        503: "ServiceUnavailableError",
    }
    response = httpx.Response(418, request=httpx.Request("POST", "http://x/v1/get-groups"))
    for code, name in expected.items():
        error = status_error(code, MESSAGES[code], response)
        assert type(error) is getattr(rehber, name)
        assert isinstance(error, rehber.APIStatusError)
        assert (error.code, error.message, error.response) == (code, MESSAGES[code], response)
        assert str(error) == f"{code} {MESSAGES[code]} (POST /v1/get-groups)"
        assert error.status_code == 418
    assert type(status_error(429, MESSAGES[429], response)) is rehber.RateLimitError
    assert type(status_error(502, "Bad Gateway", response)) is rehber.APIStatusError


def test_the_tree_in_the_docstring_is_the_tree_in_the_code() -> None:
    doc = _exceptions.__doc__ or ""
    assert issubclass(rehber.APITimeoutError, rehber.APIConnectionError)
    for name in ("APIConnectionError", "APIResponseValidationError", "APIStatusError"):
        assert getattr(rehber, name).__bases__ == (rehber.RehberError,)
        assert name in doc
    for cls in rehber.APIStatusError.__subclasses__():
        assert f"{cls.__name__}  " in doc and str(cls.expected_code) in doc


# -- answers become results or exceptions -------------------------------------------------


def test_the_real_app_answers_401_for_wrong_credentials(api: Api) -> None:
    intruder = api.twin(hash="0" * 64)
    with pytest.raises(rehber.AuthenticationError) as caught:
        intruder.groups.list()
    assert (caught.value.code, caught.value.message) == (401, "Üyelik bilgileri hatalı")
    assert caught.value.status_code == 401


def test_the_real_app_answers_404_for_a_wrong_base_url(api: Api) -> None:
    wrong = api.twin(base_url=api.connector.target.base_url.replace("/v1/", "/v2/"))
    with pytest.raises(rehber.NotFoundError) as caught:
        wrong.groups.list()
    assert caught.value.code == 404


def _scripted_client(server: ScriptedServer, **options: object) -> Client:
    return Client(key=KEY, hash=HASH, base_url=server.base_url, max_retries=0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        # The body decides: a 200 HTTP status with code 465 in the body is a 465.
        (
            Reply(200, b'{"response":{"status":{"code":"465","message":"K"}}}'),
            "ContactNotFoundError",
            465,
        ),
        # An HTTP failure with a body saying 200 is the HTTP failure.
        (Reply(503, b'{"response":{"status":{"code":200}}}'), "ServiceUnavailableError", 503),
        # A proxy's page: the HTTP status, with the vendor's message for it.
        (Reply(503, b"<html>down</html>"), "ServiceUnavailableError", 503),
        (Reply(502, b"Bad Gateway"), "APIStatusError", 502),
        (
            Reply(429, b'{"response":{"status":{"code":429,"message":"slow"}}}'),
            "RateLimitError",
            429,
        ),
    ],
)
def test_status_comes_from_the_body_then_the_http_status(
    reply: Reply, error: str, code: int
) -> None:
    with (
        ScriptedServer([reply]) as server,
        _scripted_client(server) as client,
        pytest.raises(rehber.APIStatusError) as caught,
    ):
        client.groups.list()
    assert type(caught.value) is getattr(rehber, error)
    assert caught.value.code == code
    if code == 503:
        assert caught.value.message == "Sunucu geçici olarak servis dışı"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"<html>captive portal</html>"),
        Reply(200, b'{"response":{"status":{"code":200}},"'),  # cut short
        Reply(200, b'{"response":{"status":{"code":200},"contact":{"name":"no id"}}}'),
    ],
)
def test_unreadable_success_answers(reply: Reply) -> None:
    with (
        ScriptedServer([reply]) as server,
        _scripted_client(server) as client,
        pytest.raises(rehber.APIResponseValidationError) as caught,
    ):
        client.contacts.get(1)
    assert caught.value.response.status_code == 200


def test_answers_in_the_other_format_are_read(api: Api) -> None:
    body = b"<response><status><code>200</code></status><groups/></response>"
    with ScriptedServer([Reply(200, body)]) as server, _scripted_client(server) as client:
        assert client.groups.list() == []
    assert server.paths() == ["/v1/get-groups/json"]


def test_requests_name_their_format(api: Api) -> None:
    reply = Reply.envelope(200, payload=',"group":{"id":"5","name":"G"}')
    with ScriptedServer([reply]) as server:
        with _scripted_client(server, format="xml") as client:
            client.groups.create("G")
        with _scripted_client(server) as client:
            client.groups.create("G")
    assert server.paths() == ["/v1/add-group", "/v1/add-group/json"]
    xml, json = (r.body for r in server.received)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?><request><authentication>')
    assert json.startswith(b'{"request":{"authentication":{"key":"')


# -- credentials never leak ---------------------------------------------------------------


def test_credentials_never_appear_in_reprs_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    replies = [Reply.envelope(503), Reply.envelope(401, "Üyelik bilgileri hatalı")]
    texts: list[str] = []
    with ScriptedServer(replies) as server:
        client = Client(key=KEY, secret=SECRET, base_url=server.base_url, max_retries=1)
        texts += [repr(client), repr(client.groups), repr(client.contacts), str(vars(client))]
        try:
            client.groups.list()
        except rehber.AuthenticationError as error:
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        client.close()
    dead = Client(key=KEY, hash=HASH, base_url=server.base_url, max_retries=0)
    try:
        dead.groups.list()
    except rehber.APIConnectionError as error:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts.append(caplog.text)
    assert len(texts) == 11 and "retry 1 of 1" in caplog.text
    for text in texts:
        assert KEY not in text and HASH not in text and SECRET not in text


def test_async_errors_leak_nothing_either(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def run() -> str:
        with ScriptedServer([Reply.envelope(465, "Kişi bulunamadı.")]) as server:
            async with rehber.AsyncClient(key=KEY, hash=HASH, base_url=server.base_url) as client:
                try:
                    await client.contacts.get(1)
                except rehber.ContactNotFoundError as error:
                    return repr(client) + "".join(traceback.format_exception(error))
        return ""

    text = asyncio.run(run()) + caplog.text
    assert "ContactNotFoundError: 465 Kişi bulunamadı." in text
    assert KEY not in text and HASH not in text


# -- pickling -----------------------------------------------------------------------------

ERROR_CLASSES = [
    cls
    for name in _exceptions.__all__
    if isinstance(cls := getattr(_exceptions, name), type) and issubclass(cls, rehber.RehberError)
]
BASIC_USER, BASIC_PASSWORD = "operator", "basic-auth-secret"


def _provoke(cls: type[rehber.RehberError]) -> rehber.RehberError:
    """A real ``cls`` from a real exchange: a scripted server answering what raises it."""
    if cls is rehber.RehberError:
        with pytest.raises(rehber.RehberError) as caught:
            Client(hash=HASH)
        return caught.value
    step: Step
    options: dict[str, object] = {}
    if cls is rehber.APIConnectionError:
        step = Drop()
    elif cls is rehber.APITimeoutError:
        step, options = Hang(), {"timeout": 0.2}
    elif cls is rehber.APIResponseValidationError:
        step = Reply(200, b"<html>captive portal</html>")
    elif cls is rehber.APIStatusError:
        step = Reply(502, b"Bad Gateway", (("Content-Type", "text/plain"),))
    else:
        code = cls.expected_code  # type: ignore[attr-defined]
        step = Reply.envelope(code, MESSAGES[code], Retry_After="3")
    # An http_client that adds credentials of its own (Basic auth) to every request.
    with (
        httpx.Client(auth=(BASIC_USER, BASIC_PASSWORD)) as http,
        ScriptedServer([step]) as server,
        _scripted_client(server, http_client=http, **options) as client,
        pytest.raises(rehber.RehberError) as caught,
    ):
        client.contacts.add(name="Ayşe", gsm="05321234567")
    return caught.value


def test_every_exception_class_is_covered() -> None:
    assert len(ERROR_CLASSES) == 20
    assert set(ERROR_CLASSES) == {rehber.RehberError, *_all_subclasses(rehber.RehberError)}


def _all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_all_subclasses(direct)}}


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_exceptions_pickle_without_their_credentials(cls: type[rehber.RehberError]) -> None:
    error = _provoke(cls)
    assert type(error) is cls
    sent = _request_of(error)
    if sent is not None:  # what the client really sent carries every credential
        assert KEY.encode() in sent.content and HASH.encode() in sent.content
        assert sent.headers["Authorization"].startswith("Basic ")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(error, protocol=protocol)
        for secret in (KEY, HASH, BASIC_PASSWORD, sent.headers["Authorization"] if sent else KEY):
            assert secret.encode() not in data
        restored = pickle.loads(data)
        assert type(restored) is cls
        assert restored.args == error.args
        assert (str(restored), repr(restored)) == (str(error), repr(error))
        assert set(vars(restored)) == set(vars(error))
        for name in ("code", "message", "status_code", "expected_code"):
            assert getattr(restored, name, None) == getattr(error, name, None)
        if isinstance(error, (rehber.APIStatusError, rehber.APIResponseValidationError)):
            back, original = restored.response, error.response
            assert (back.status_code, back.content) == (original.status_code, original.content)
            assert back.headers == original.headers
        if sent is not None:
            request = _request_of(restored)
            assert request is not None
            assert (request.method, request.url) == (sent.method, sent.url)
            assert request.content == b"" and "Authorization" not in request.headers
            assert request.headers["User-Agent"] == sent.headers["User-Agent"]
    if isinstance(error, rehber.APIStatusError):
        assert restored.code == (cls.expected_code or 502) and restored.message
    if cls in (rehber.RateLimitError, rehber.ServiceUnavailableError):
        assert restored.response.headers["Retry-After"] == "3"


def _request_of(error: rehber.RehberError) -> httpx.Request | None:
    if isinstance(error, rehber.APIConnectionError):
        return error.request
    if isinstance(error, (rehber.APIStatusError, rehber.APIResponseValidationError)):
        return error.response.request
    return None


def test_a_real_error_of_the_real_app_pickles(api: Api) -> None:
    with pytest.raises(rehber.ContactNotFoundError) as caught:
        api.contacts.get(987654321)
    data = pickle.dumps(caught.value)
    assert api.credentials.key.encode() not in data
    assert api.credentials.hash.encode() not in data
    restored = pickle.loads(data)
    assert type(restored) is rehber.ContactNotFoundError
    assert (restored.code, restored.message, restored.status_code) == (465, "Kişi bulunamadı.", 465)
    assert str(restored) == str(caught.value)
    assert restored.response.content == caught.value.response.content


def test_copies_of_errors_hold_no_credentials_either() -> None:
    error = _provoke(rehber.AuthenticationError)
    assert isinstance(error, rehber.AuthenticationError)
    for copied in (copy.copy(error), copy.deepcopy(error)):
        assert type(copied) is rehber.AuthenticationError and copied.code == 401
        assert copied.response.request.content == b""
    assert KEY.encode() in error.response.request.content  # the original is untouched
