"""The HTTPS transport with mutual TLS against a real local TLS server (``HttpTarget`` in TLS mode), not a mock.

The certificates are made per test module in a temporary folder (``gateway.testing.certs``): a test CA, a server
certificate for 127.0.0.1 and localhost and a client certificate signed by it, and a rogue CA with its own client and
server certificates.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.delivery.http import HttpOptions, HttpTransport
from gateway.delivery.transport import SendOutcome, TransientDeliveryError
from gateway.errors import ConfigError, GatewayError, RecordError, TransientError
from gateway.testing.certs import CertificateAuthority, Issued, issue, make_ca
from gateway.testing.http_target import FaultPlan, HttpTarget, ServerTls
from tests.unit.delivery.support import message


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    server: Issued
    client: Issued
    rogue_ca: CertificateAuthority
    rogue_server: Issued
    rogue_client: Issued
    elsewhere: Issued  # signed by the test CA, but for another host name


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "test-ca")
    rogue = make_ca(folder, "rogue-ca")
    return Pki(
        ca=ca,
        server=issue(ca, folder, "server", server=True),
        client=issue(ca, folder, "client"),
        rogue_ca=rogue,
        rogue_server=issue(rogue, folder, "rogue-server", server=True),
        rogue_client=issue(rogue, folder, "rogue-client"),
        elsewhere=issue(ca, folder, "elsewhere", server=True, hosts=("elsewhere.example",)),
    )


Serve = Callable[..., tuple[HttpTarget, HttpTransport]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[tuple[HttpTarget, HttpTransport]] = []

    def make(
        tls: ServerTls | None, plan: FaultPlan | None = None, **options: object
    ) -> tuple[HttpTarget, HttpTransport]:
        target = HttpTarget(plan, tls=tls).start()
        transport = HttpTransport(HttpOptions(url=target.url, connect_timeout_s=2.0, read_timeout_s=2.0, **options))
        started.append((target, transport))
        return target, transport

    yield make
    for target, transport in started:
        transport.close()
        target.stop()


def _mutual(pki: Pki, version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED) -> ServerTls:
    """The test server certificate, requiring client certificates of the test CA."""
    return ServerTls(pki.server.cert, pki.server.key, client_ca=pki.ca.cert, maximum_version=version)


def _client(pki: Pki, issued: Issued | None = None) -> dict[str, Path]:
    """Transport options: trust the test CA, present ``issued`` (the test client certificate by default)."""
    issued = issued or pki.client
    return {"ca_bundle": pki.ca.cert, "client_cert": issued.cert, "client_key": issued.key}


def _ssl_error(error: BaseException) -> ssl.SSLError | None:
    """The `ssl.SSLError` behind an exception (its cause or context chain), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _handshake_failures(target: HttpTarget, count: int = 1) -> list[str]:
    """The target's handshake failures, once it has recorded ``count`` (its handler thread may lag the client)."""
    deadline = time.monotonic() + 2.0
    while len(target.handshake_failures) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return target.handshake_failures


TLS_VERSIONS = [
    pytest.param(ssl.TLSVersion.TLSv1_2, id="tls1.2"),
    pytest.param(ssl.TLSVersion.MAXIMUM_SUPPORTED, id="tls1.3"),
]


# -- (a) the happy path -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", TLS_VERSIONS)
def test_mutual_tls_with_the_test_ca_and_client_certificate_is_accepted(
    serve: Serve, pki: Pki, version: ssl.TLSVersion
) -> None:
    target, transport = serve(_mutual(pki, version), **_client(pki))
    m = message("case-1", 3)

    assert target.url.startswith("https://127.0.0.1:")
    result = transport.send(m)

    assert (result.outcome, result.status_code, result.code) == (SendOutcome.ACCEPTED, 201, "accepted")
    [arrival] = target.arrivals
    assert (arrival.message_id, arrival.sequence, arrival.body) == (m.message_id, 3, m.body)
    assert target.handshake_failures == []
    # the connection is kept alive across sends, and a repeat is still a duplicate over TLS
    assert transport.send(m).outcome is SendOutcome.DUPLICATE
    assert target.handshake_failures == []


def test_server_only_tls_needs_no_client_certificate(serve: Serve, pki: Pki) -> None:
    target, transport = serve(ServerTls(pki.server.cert, pki.server.key), ca_bundle=pki.ca.cert)

    assert transport.send(message()).outcome is SendOutcome.ACCEPTED
    assert len(target.acceptances) == 1


def test_faults_over_tls_stay_transient_and_the_retry_gets_through(serve: Serve, pki: Pki) -> None:
    """A connection dropped after a good handshake is an outage, not a TLS misconfiguration: it stays retried."""
    target, transport = serve(_mutual(pki), FaultPlan(drop=1.0, max_faults_per_id=1), **_client(pki))
    m = message()

    with pytest.raises(TransientDeliveryError) as raised:
        transport.send(m)

    assert raised.value.code == "connection"
    assert target.handshake_failures == []
    assert transport.send(m).outcome is SendOutcome.ACCEPTED


# -- (b), (c) the target refuses the client -----------------------------------------------------------------------

CLIENT_REFUSALS = [
    # (which client certificate, what the target says in its log, the alert the client receives)
    pytest.param(None, "PEER_DID_NOT_RETURN_A_CERTIFICATE", id="no-client-cert"),
    pytest.param("rogue", "CERTIFICATE_VERIFY_FAILED", id="rogue-ca-client-cert"),
]


def _refused_client_options(pki: Pki, which: str | None) -> dict[str, Path]:
    if which is None:
        return {"ca_bundle": pki.ca.cert}  # trusts the server, presents nothing
    return _client(pki, pki.rogue_client)


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.parametrize(("which", "server_reason"), CLIENT_REFUSALS)
def test_the_target_refuses_a_missing_or_foreign_client_certificate(
    serve: Serve, pki: Pki, which: str | None, server_reason: str, version: ssl.TLSVersion
) -> None:
    target, transport = serve(_mutual(pki, version), **_refused_client_options(pki, which))

    with pytest.raises(GatewayError) as raised:
        transport.send(message())

    assert target.arrivals == []  # refused in the handshake: no request ever reached the handler
    assert server_reason in _handshake_failures(target)
    cause = _ssl_error(raised.value)
    assert cause is not None, f"no TLS error behind {raised.value!r}"
    # The refusal reaches the client as the target's alert. With TLS 1.3 the client's handshake is already over when
    # the target checks the certificate, so httpx only sees it on reading the answer (a ReadError, not a ConnectError).
    assert "ALERT" in (cause.reason or "")


# -- (d) the client refuses the target ----------------------------------------------------------------------------

SERVER_REFUSALS = [
    pytest.param("rogue-server", "unable to get local issuer certificate", id="server-cert-from-another-ca"),
    pytest.param("elsewhere", "IP address mismatch", id="server-cert-for-another-host"),
    pytest.param("system-store", "certificate verify failed", id="test-ca-not-trusted-by-default"),
]


@pytest.mark.parametrize(("case", "detail"), SERVER_REFUSALS)
def test_the_client_refuses_a_target_it_cannot_verify(serve: Serve, pki: Pki, case: str, detail: str) -> None:
    server = {"rogue-server": pki.rogue_server, "elsewhere": pki.elsewhere}.get(case, pki.server)
    tls = ServerTls(server.cert, server.key, client_ca=pki.ca.cert)
    options: dict[str, object] = dict(_client(pki))
    if case == "system-store":
        options["ca_bundle"] = None  # the system's CAs, which do not know the test CA
    target, transport = serve(tls, **options)

    with pytest.raises(GatewayError) as raised:
        transport.send(message())

    assert target.arrivals == []
    cause = _ssl_error(raised.value)
    assert isinstance(cause, ssl.SSLCertVerificationError), f"not a verification failure: {raised.value!r}"
    assert detail in str(cause)
    assert _handshake_failures(target)  # the client broke the handshake off (its alert: unknown CA / bad cert)


def test_with_verify_off_the_same_untrusted_target_is_accepted(serve: Serve, pki: Pki) -> None:
    """The counterpart of the test above: the refusal is the verification, not some other fault of the setup."""
    tls = ServerTls(pki.rogue_server.cert, pki.rogue_server.key)
    _target, transport = serve(tls, verify=False)

    assert transport.send(message()).outcome is SendOutcome.ACCEPTED


# -- how a handshake refusal is classified --------------------------------------------------------------------------

HANDSHAKE_REFUSALS = ["no-client-cert", "rogue-ca-client-cert", "server-cert-from-another-ca"]


def _refusing(serve: Serve, pki: Pki, case: str, version: ssl.TLSVersion) -> HttpTransport:
    if case == "server-cert-from-another-ca":
        tls = ServerTls(pki.rogue_server.cert, pki.rogue_server.key, client_ca=pki.ca.cert, maximum_version=version)
        return serve(tls, **_client(pki))[1]
    which = None if case == "no-client-cert" else "rogue"
    return serve(_mutual(pki, version), **_refused_client_options(pki, which))[1]


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.parametrize("case", HANDSHAKE_REFUSALS)
def test_a_handshake_refusal_stops_delivery_instead_of_being_retried(
    serve: Serve, pki: Pki, case: str, version: ssl.TLSVersion
) -> None:
    """No retry makes a certificate valid: it is a broken configuration, neither transient nor one message's fault."""
    transport = _refusing(serve, pki, case, version)

    with pytest.raises(GatewayError) as raised:
        transport.send(message())

    assert isinstance(raised.value, ConfigError)
    assert not isinstance(raised.value, TransientError | RecordError)
    assert _ssl_error(raised.value) is not None


# -- (e) plain HTTP is unchanged ------------------------------------------------------------------------------------


def test_plain_http_mode_still_works(serve: Serve) -> None:
    target, transport = serve(None)
    m = message()

    assert target.url.startswith("http://127.0.0.1:")
    assert transport.send(m).outcome is SendOutcome.ACCEPTED
    assert [a.message_id for a in target.acceptances] == [m.message_id]
    assert target.handshake_failures == []


def test_a_plain_http_client_gets_nothing_from_a_tls_target(serve: Serve, pki: Pki) -> None:
    target, _ = serve(ServerTls(pki.server.cert, pki.server.key))
    plain = HttpTransport(HttpOptions(url=target.url.replace("https://", "http://"), read_timeout_s=2.0))

    with pytest.raises(TransientDeliveryError):
        plain.send(message())
    plain.close()

    assert target.arrivals == []
    assert _handshake_failures(target) == ["HTTP_REQUEST"]


def test_a_bad_server_certificate_fails_before_binding(pki: Pki) -> None:
    with pytest.raises(ssl.SSLError):
        HttpTarget(tls=ServerTls(pki.server.cert, pki.client.key))  # key of another certificate
