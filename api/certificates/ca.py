"""The certificate chain that signs issued PDFs: a root and one signing key per issuing department.

Production provisions CERTIFICATE_CA_DIR (root.pem, and <dept>.pem + <dept>.key for each department);
development generates a demo CA there on first use. PDFs are signed (PAdES) with pyhanko.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore


class SigningUnavailable(RuntimeError):
    """The department has no signing key in the CA folder."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "政务服务电子证明演示CA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=not sign_certs, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=sign_certs, crl_sign=sign_certs,
                         encipher_only=False, decipher_only=False)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_demo_ca(folder: Path, depts: dict[str, str]) -> None:
    """Create a demo root and the missing department keys (development and benchmarks only)."""
    folder.mkdir(parents=True, exist_ok=True)
    # Workers start together: one makes the chain, the others wait and then find it made.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _make_demo_ca(folder, depts)


def _make_demo_ca(folder: Path, depts: dict[str, str]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    root_pem, root_key_pem = folder / "root.pem", folder / "root.key"
    if not root_pem.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name("演示根证书")).issuer_name(_name("演示根证书"))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(sign_certs=True), critical=True).sign(key, hashes.SHA256()))
        _write(root_key_pem, _pem_key(key))
        _write(root_pem, cert.public_bytes(serialization.Encoding.PEM))
    root = x509.load_pem_x509_certificate(root_pem.read_bytes())
    root_key = serialization.load_pem_private_key(root_key_pem.read_bytes(), password=None)
    for code, name in depts.items():
        if (folder / f"{code}.pem").exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(f"{name}电子证明专用章")).issuer_name(root.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=730))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_usage(sign_certs=False), critical=True).sign(root_key, hashes.SHA256()))
        _write(folder / f"{code}.key", _pem_key(key))
        _write(folder / f"{code}.pem", cert.public_bytes(serialization.Encoding.PEM))


def _asn1_cert(path: Path) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def root_certificate(folder: Path) -> asn1_x509.Certificate:
    """The trust anchor verifiers need (pyhanko / asn1crypto form)."""
    return _asn1_cert(folder / "root.pem")


@dataclass
class DepartmentSigner:
    """A department's pyhanko signer, with its chain."""

    dept: str
    signer: signers.SimpleSigner


_signers: dict[tuple[str, str], DepartmentSigner] = {}


def signer_for(folder: Path, dept: str) -> DepartmentSigner:
    """The department's signer (loaded once per process)."""
    cached = _signers.get((str(folder), dept))
    if cached is not None:
        return cached
    cert_path, key_path = folder / f"{dept}.pem", folder / f"{dept}.key"
    if not cert_path.exists() or not key_path.exists():
        raise SigningUnavailable(f"no signing key for department {dept} in {folder}")
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert, root = _asn1_cert(cert_path), root_certificate(folder)
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
                                  cert_registry=SimpleCertificateStore.from_certs([root, cert]))
    _signers[(str(folder), dept)] = entry = DepartmentSigner(dept=dept, signer=signer)
    return entry
