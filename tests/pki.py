"""Throw-away certificates for the signing tests, made at test time (no private key is committed).

A CA (basicConstraints CA=true, keyCertSign) issues signer certificates with digitalSignature and
nonRepudiation key usage (or, for the refusal tests, a short RSA key or no key usage at all);
:func:`pkcs12` packs a key and its chain for ``docgen sign --key``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as p12
from cryptography.x509.oid import NameOID

NOW = datetime.now(UTC)


@dataclass
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def pem(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "docgen test agency"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_ca(common_name: str) -> Issued:
    key = _key()
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(key, cert)


def make_signer(ca: Issued, common_name: str, not_before: datetime | None = None,
                not_after: datetime | None = None, signing: bool = True, bits: int = 2048,
                key_usage: bool = True) -> Issued:
    """``signing=False``: key usage keyEncipherment only; ``key_usage=False``: no key usage extension."""
    key = _key(bits)
    usage = x509.KeyUsage(digital_signature=signing, content_commitment=signing, key_encipherment=not signing,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - timedelta(days=1))
               .not_valid_after(not_after or NOW + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False))
    if key_usage:
        builder = builder.add_extension(usage, critical=True)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def pkcs12(path: Path, signer: Issued, ca: Issued | None, passphrase: bytes | None) -> Path:
    """Write the signer's key and certificate (and the CA certificate) as PKCS#12."""
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    path.write_bytes(p12.serialize_key_and_certificates(b"signer", signer.key, signer.cert,
                                                        [ca.cert] if ca else None, encryption))
    return path
