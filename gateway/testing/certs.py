"""Throwaway X.509 certificates for TLS tests: a CA, server and client certificates signed by it, written as PEM.

Made at test time (into a temporary folder), never committed. Keys are ECDSA P-256, certificates valid from an hour
ago for a day. Needs the ``cryptography`` package (a test dependency, not a runtime one of the gateway).

Example::

    ca = make_ca(tmp_path, "test-ca")
    server = issue(ca, tmp_path, "server", server=True)        # SAN 127.0.0.1 and localhost
    client = issue(ca, tmp_path, "client")                     # clientAuth
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "Issued", "issue", "make_ca"]


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its key, as PEM files.

    Attributes:
        cert: The certificate (PEM).
        key: Its private key (PEM, unencrypted).
    """

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """A self-signed CA that can issue certificates.

    Attributes:
        name: Its common name.
        cert: The CA certificate (PEM): the file to trust.
        key: Its private key (PEM).
        certificate: The CA certificate, parsed.
        private_key: The CA key, parsed.
    """

    name: str
    cert: Path
    key: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / f"{stem}.crt.pem"
    key_path = folder / f"{stem}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return Issued(cert_path, key_path)


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))


def make_ca(folder: Path, name: str) -> CertificateAuthority:
    """Create a self-signed CA ``name``; its certificate and key are written to ``folder/name.{crt,key}.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    issued = _write(folder, name, cert, key)
    return CertificateAuthority(name, issued.cert, issued.key, cert, key)


def issue(
    ca: CertificateAuthority,
    folder: Path,
    name: str,
    *,
    server: bool = False,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    client_auth: bool = False,
) -> Issued:
    """Issue a certificate ``name`` signed by ``ca``, written to ``folder/name.{crt,key}.pem``.

    Args:
        ca: The issuing CA.
        folder: Where to write the PEM files.
        name: Common name and file stem.
        server: A server certificate (serverAuth, with ``hosts`` as subject alternative names); else a client one.
        hosts: IP addresses and DNS names of a server certificate.
        client_auth: A server certificate that may also authenticate as a client (a Kafka broker's, over mutual
            TLS to the other brokers and the controllers).

    Returns:
        The certificate and key files.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server and client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(usages),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()), critical=False)
    )
    if server:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca.private_key, hashes.SHA256())
    return _write(folder, name, cert, key)
