"""The API clients' transport (exporter/api/transport.py): requests sent over pooled
`http.client` connections put the same request on the wire as requests' own adapter, read
the same answers, and fail the same way, against a loopback server that scripts each answer's
bytes: kept and dropped connections, encodings, chunks, bodies cut short, silence, TLS."""

from __future__ import annotations

import gzip
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import requests
import requests.adapters
import urllib3.connectionpool

from exporter.api import answer_body
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.sessions import POOL_SIZE, api_session
from exporter.api.transport import DirectAdapter
from exporter.core.errors import ApiError, MalformedResponseError, ServerError, TransportError
from tests.support.scripted_server import Received, Reply, ScriptedServer, answer, chunked
from tests.support.web_config import Pki

GZIP = (("Content-Encoding", "gzip"),)
ROWS = json.dumps([{"pbxId": "acmecorp", "totalCalls": n} for n in range(50)]).encode()


def client(
    server: ScriptedServer,
    *,
    session: requests.Session | None = None,
    read_timeout: float = 5.0,
    max_response_bytes: int = 16 * 1024 * 1024,
) -> HttpClient:
    settings = HttpSettings(
        max_attempts=1, read_timeout=read_timeout, max_response_bytes=max_response_bytes
    )
    return HttpClient("work_analytics", server.url, settings, RequestStats(), session=session)


@contextmanager
def serving(script: Callable[[Received], Reply]) -> Iterator[ScriptedServer]:
    with ScriptedServer(script) as server:
        yield server


def rows(_: Received) -> Reply:
    return Reply(answer(ROWS))


def get(http: HttpClient, path: str = "/v2/rgsum-members", **params: str) -> object:
    return http.request("GET", path, path, params=params or None)


def requests_own_session(base_url: str) -> requests.Session:
    """The session the exporter makes, with requests' own adapter in place of ours."""
    session = api_session(base_url)
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def test_the_exporter_s_sessions_send_through_the_direct_adapter() -> None:
    session = api_session("https://api.8x8.com/analytics/work")
    assert isinstance(session.get_adapter("https://api.8x8.com/analytics/work/v2"), DirectAdapter)


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda h: get(h, pbxId="acme corp/ü", timeZone="UTC"), id="GET with a query"),
        pytest.param(
            lambda h: h.request(
                "POST",
                "/oauth/token",
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "a b"},
                headers=lambda: {"Authorization": "Basic c2VjcmV0"},
            ),
            id="POST of a form",
        ),
        pytest.param(
            lambda h: h.request(
                "POST", "/v1/reports", "/v1/reports", json_body={"name": "é", "ids": [1, 2]}
            ),
            id="POST of JSON",
        ),
    ],
)
def test_the_request_on_the_wire_is_the_one_requests_sends(
    send: Callable[[HttpClient], object],
) -> None:
    with serving(rows) as server:
        ours, theirs = client(server), client(server, session=requests_own_session(server.url))
        try:
            assert send(ours) == send(theirs)
        finally:
            ours.close()
            theirs.close()
    first, second = server.received
    assert first.request_line == second.request_line
    assert first.headers == second.headers
    assert first.body == second.body


def test_a_direct_route_never_reaches_urllib3(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("sent through urllib3")

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", refuse)
    with serving(rows) as server:
        with closing(client(server)) as http:
            assert get(http) == json.loads(ROWS)


@pytest.mark.parametrize(
    "variables",
    [{"NO_PROXY": "internal.example"}, {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "x"}],
)
def test_proxy_settings_that_name_no_proxy_for_the_host_keep_the_direct_route(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    """NO_PROXY alone (a Kubernetes habit), or a proxy for https only, leaves the session
    with proxy settings but none for an http:// host: still a direct route."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("sent through urllib3")

    with serving(rows) as server:
        session = api_session(server.url)
        assert session.proxies  # something was read from the environment
        monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", refuse)
        with closing(client(server, session=session)) as http:
            assert get(http) == json.loads(ROWS)


def test_a_kept_connection_serves_the_next_requests() -> None:
    with serving(rows) as server:
        with closing(client(server)) as http:
            for _ in range(5):
                assert get(http) == json.loads(ROWS)
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_without_an_error() -> None:
    """A server's keep-alive timeout: the kept connection reads as closed and a new one is
    opened, where sending on it would fail the request (one attempt only here)."""
    with serving(lambda r: Reply(answer(ROWS), close=True)) as server:
        with closing(client(server)) as http:
            for n in range(1, 4):
                assert get(http) == json.loads(ROWS)
                assert server.wait_closed(n), "the server did not close its end"
    assert server.connections == 3
    assert len(server.received) == 3


def test_an_answer_that_says_close_is_not_kept() -> None:
    with serving(
        lambda r: Reply(answer(ROWS, headers=(("Connection", "close"),)), close=False)
    ) as server:
        with closing(client(server)) as http:
            get(http)
            get(http)
    assert server.connections == 2


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("identity", lambda data: data),
        # Codings listed in the order applied, decoded the other way round.
        ("deflate, gzip", lambda data: gzip.compress(zlib.compress(data))),
        ("gzip,deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("gzip, identity", gzip.compress),
    ],
)
def test_encoded_answers_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    body = encode(ROWS)
    reply = answer(body, headers=(("Content-Encoding", encoding),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            assert get(http) == json.loads(ROWS)
            assert get(http) == json.loads(ROWS)  # and the connection was kept
    assert server.connections == 1


@pytest.mark.parametrize(
    ("status", "error"), [("200 OK", MalformedResponseError), ("503 Busy", ServerError)]
)
def test_an_encoding_that_was_not_asked_for_is_passed_on_as_it_came(
    status: str, error: type[Exception]
) -> None:
    """As urllib3 does: a gateway's error in brotli still counts as its status."""
    reply = answer(b"\x00\x01", status=status, headers=(("Content-Encoding", "br"),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            with pytest.raises(error):
                get(http)
    assert server.received[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_list_with_a_coding_not_known_is_passed_on_as_it_came() -> None:
    reply = answer(gzip.compress(ROWS), headers=(("Content-Encoding", "gzip, br"),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            with pytest.raises(MalformedResponseError):
                get(http)


def test_silence_inside_a_chain_of_codings_ends() -> None:
    """Empty deflate blocks under gzip: the outer stage has output, the inner never has."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    empty_block = compressor.flush(zlib.Z_SYNC_FLUSH)
    silent = gzip.compress(empty_block * ((4 << 20) // len(empty_block)))
    assert len(silent) < (1 << 20)  # the body itself never reads a silent MiB
    reply = answer(silent, headers=(("Content-Encoding", "deflate, gzip"),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            with pytest.raises(TransportError, match="no answer"):
                get(http)


def test_a_chain_of_codings_is_read_a_bounded_piece_at_a_time() -> None:
    bomb = gzip.compress(gzip.compress(bytes(64 << 20), compresslevel=9), compresslevel=9)
    decoder = answer_body.decoder_for("gzip, gzip")
    assert decoder is not None
    decoder.feed(bomb)
    sizes = [len(decoder.take(4096)) for _ in range(1000)]
    assert max(sizes) == 4096


def test_gzip_members_are_read_one_after_the_other() -> None:
    half = len(ROWS) // 2
    body = gzip.compress(ROWS[:half]) + gzip.compress(ROWS[half:])
    replies = [body, body + b"trailing garbage"]
    with serving(lambda r: Reply(answer(replies.pop(0), headers=GZIP))) as server:
        with closing(client(server)) as http:
            assert get(http) == json.loads(ROWS)
            assert get(http) == json.loads(ROWS)


def test_gzip_that_breaks_after_a_piece_fails_the_request_without_a_crash() -> None:
    """The error comes from the input kept back after a full piece of output."""
    text = json.dumps([{"n": n, "pad": "x" * 40} for n in range(4000)]).encode()
    broken = bytearray(gzip.compress(text))
    broken[-8] ^= 0xFF  # the CRC
    with serving(lambda r: Reply(answer(bytes(broken), headers=GZIP))) as server:
        with closing(client(server)) as http:
            with pytest.raises(TransportError, match="no answer"):
                get(http)


def test_raw_deflate_in_one_byte_pieces_is_read() -> None:
    raw = zlib.compress(ROWS)[2:-4]
    reply = answer(
        chunked(raw, size=1),
        headers=(("Content-Encoding", "deflate"), ("Transfer-Encoding", "chunked")),
        length=False,
    )
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            assert get(http) == json.loads(ROWS)


def test_compressed_input_that_never_says_anything_ends() -> None:
    """Empty deflate blocks say nothing: the size limit and deadline see no piece, so a
    bound on the input without output ends the answer."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    empty_block = compressor.flush(zlib.Z_SYNC_FLUSH)
    silent = empty_block * ((2 << 20) // len(empty_block))
    reply = answer(silent, headers=(("Content-Encoding", "deflate"),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            with pytest.raises(TransportError, match="no answer"):
                get(http)


def test_a_compressed_answer_is_read_a_bounded_piece_at_a_time() -> None:
    """64 MB of zeros in 64 KB of gzip: the limit ends it, and no read gives more than asked."""
    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)
    reply = answer(bomb, headers=(("Content-Encoding", "gzip"),))
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server, max_response_bytes=1 << 20)) as http:
            with pytest.raises(MalformedResponseError, match="over the limit"):
                get(http)
        session = api_session(server.url)
        try:
            response = session.get(server.url + "/x", stream=True, timeout=(5, 5))
            sizes: list[int] = []
            while len(sizes) < 50 and (piece := response.raw.read1(4096, decode_content=True)):
                sizes.append(len(piece))
            response.close()
        finally:
            session.close()
    assert sizes and max(sizes) <= 4096


def test_a_chunked_answer_is_read_whole() -> None:
    reply = answer(chunked(ROWS), headers=(("Transfer-Encoding", "chunked"),), length=False)
    with serving(lambda r: Reply(reply)) as server:
        with closing(client(server)) as http:
            assert get(http) == json.loads(ROWS)
            assert get(http) == json.loads(ROWS)
    assert server.connections == 1


def test_a_body_cut_short_fails_the_request_and_its_connection_is_not_kept() -> None:
    cut = answer(ROWS)[: -len(ROWS) // 2]
    replies = iter([Reply(cut, close=True), Reply(answer(ROWS))])
    with serving(lambda r: next(replies)) as server:
        with closing(client(server)) as http:
            with pytest.raises(TransportError, match="no answer"):
                get(http)
            assert get(http) == json.loads(ROWS)
    assert server.connections == 2


def test_a_body_left_unread_closes_its_connection() -> None:
    with serving(rows) as server:
        session = api_session(server.url)
        try:
            response = session.get(server.url + "/a", stream=True, timeout=(5, 5))
            assert response.raw.read1(10, decode_content=True)
            response.close()  # the rest of the body would be read as the next answer
            assert session.get(server.url + "/b", timeout=(5, 5)).json() == json.loads(ROWS)
        finally:
            session.close()
    assert server.connections == 2


def test_a_server_that_never_answers_times_out() -> None:
    with serving(lambda r: Reply(stall=True)) as server:
        with closing(client(server, read_timeout=0.2)) as http:
            with pytest.raises(TransportError, match="ReadTimeout"):
                get(http)


def test_a_server_that_stops_in_the_middle_of_a_body_times_out_as_a_read_timeout() -> None:
    half = answer(ROWS)[: -len(ROWS) // 2]
    with serving(lambda r: Reply(half, stall=True)) as server:
        with closing(client(server, read_timeout=0.2)) as http:
            with pytest.raises(TransportError, match="ReadTimeoutError"):
                get(http)


def test_a_port_nobody_listens_on_fails_as_a_transport_error() -> None:
    with serving(rows) as server:
        url = server.url
    with closing(
        HttpClient("work_analytics", url, HttpSettings(max_attempts=1), RequestStats())
    ) as http:
        with pytest.raises(TransportError, match="ConnectionError"):
            get(http)


@pytest.mark.parametrize(
    "status", ["307 Temporary Redirect", "308 Permanent Redirect", "302 Found"]
)
def test_a_redirect_to_another_host_never_gets_the_key_or_the_password(status: str) -> None:
    """A token request moved elsewhere: requests would keep the API key's header and, on a
    307 or 308, the body with the password (it drops `Authorization` only)."""
    with serving(lambda r: Reply(answer(b"{}"))) as elsewhere:
        # localhost and 127.0.0.1: the same machine, another origin.
        target = elsewhere.url.replace("127.0.0.1", "localhost") + "/steal"
        moved = answer(b"", status=status, headers=(("Location", target),))
        with serving(lambda r: Reply(moved)) as vendor:
            with closing(client(vendor)) as http:
                with pytest.raises(ApiError, match="another origin: not followed"):
                    http.request(
                        "POST",
                        "/oauth/token",
                        "/oauth/token",
                        data={"username": "u", "password": "s3cret-pw"},
                        headers=lambda: {"8x8-apikey": "s3cret-key"},
                    )
            assert len(vendor.received) == 1
    assert elsewhere.received == []


def test_a_redirect_and_a_cookie_work_as_through_requests() -> None:
    def script(received: Received) -> Reply:
        if received.request_line.startswith("GET /old"):
            return Reply(
                answer(
                    b"",
                    status="302 Found",
                    headers=(("Location", "/new?x=1"), ("Set-Cookie", "lb=node7; Path=/")),
                )
            )
        return Reply(answer(ROWS))

    with serving(script) as server:
        with closing(client(server)) as http:
            assert get(http, "/old") == json.loads(ROWS)
            get(http, "/again")
    _, new, again = server.received
    assert new.request_line == "GET /new?x=1 HTTP/1.1"
    assert new.headers["cookie"] == "lb=node7"
    assert again.headers["cookie"] == "lb=node7"
    assert server.connections == 1


def test_many_threads_share_the_pool() -> None:
    with serving(rows) as server:
        http = client(server)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    assert get(http) == json.loads(ROWS)
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            http.close()
    assert failures == []
    assert len(server.received) == 80
    assert server.connections <= 8


def test_an_adapter_closed_while_a_request_is_in_flight_keeps_nothing_open() -> None:
    """A reload or a stop closes the client while a poller's answer is still being read:
    the close does not fail, the connection is closed when its body ends instead of being
    kept, and the next request opens a new one."""
    adapter = DirectAdapter(pool_maxsize=2)
    with serving(rows) as server:
        session = api_session(server.url)
        session.mount("http://", adapter)
        try:
            response = session.get(server.url + "/a", stream=True, timeout=(5, 5))
            adapter.close()
            assert response.json() == json.loads(ROWS)  # read to its end after the close
            assert adapter._idle == {}
            assert session.get(server.url + "/b", timeout=(5, 5)).json() == json.loads(ROWS)
            assert adapter._idle == {}
        finally:
            session.close()
    assert server.connections == 2


def test_an_idle_pool_keeps_at_most_its_size() -> None:
    adapter = DirectAdapter(pool_maxsize=2)
    with serving(rows) as server:
        session = api_session(server.url)
        session.mount("http://", adapter)
        try:
            responses = [
                session.get(server.url + f"/{n}", stream=True, timeout=(5, 5)) for n in range(4)
            ]
            for response in responses:
                assert response.content  # read to the end: the connection goes back
            assert sum(map(len, adapter._idle.values())) == 2
        finally:
            session.close()
    assert server.connections == 4


# --- TLS -----------------------------------------------------------------------------------


@contextmanager
def tls_serving(pki: Pki) -> Iterator[ScriptedServer]:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server.cert, pki.server.key)
    with ScriptedServer(rows, tls=context) as server:
        yield server


def tls_client(server: ScriptedServer, verify: bool | str) -> HttpClient:
    session = api_session(server.url)
    session.verify = verify
    return client(server, session=session)


def test_tls_is_verified_against_the_bundle_named(pki: Pki) -> None:
    with tls_serving(pki) as server:
        with closing(tls_client(server, str(pki.ca.cert))) as http:
            assert get(http) == json.loads(ROWS)
            assert get(http) == json.loads(ROWS)
    assert server.connections == 1


def test_tls_of_a_certificate_no_trusted_ca_signed_fails(pki: Pki) -> None:
    with tls_serving(pki) as server:
        for verify in (True, str(pki.other_ca.cert)):
            with closing(tls_client(server, verify)) as http:
                with pytest.raises(TransportError, match="SSLError"):
                    get(http)
    assert server.received == []


def test_a_ca_bundle_without_certificates_fails_as_a_transport_error(
    pki: Pki, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    with tls_serving(pki) as server:
        with closing(tls_client(server, str(empty))) as http:
            with pytest.raises(TransportError, match="SSLError"):
                get(http)


def test_a_ca_bundle_rewritten_in_place_is_read_again(pki: Pki, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.other_ca.cert.read_bytes())
    with tls_serving(pki) as server:
        with closing(tls_client(server, str(bundle))) as http:
            with pytest.raises(TransportError, match="SSLError"):
                get(http)
            bundle.write_bytes(pki.ca.cert.read_bytes() + b"\n")  # another size: another version
            assert get(http) == json.loads(ROWS)


def test_tls_without_verification_when_asked(pki: Pki) -> None:
    with tls_serving(pki) as server:
        with closing(tls_client(server, False)) as http:
            assert get(http) == json.loads(ROWS)
