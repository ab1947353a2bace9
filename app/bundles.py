"""Litigation filing packages: a zip of a case's summary and documents with a manifest of SHA-256
sums signed by the platform's Ed25519 key, and its verification (no Flask, no database)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = "daojiao-filing-package/1"


@dataclass(frozen=True)
class BundleFile:
    path: str
    data: bytes
    meta: dict[str, Any] = field(default_factory=dict)


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: the start of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


def build_bundle(
    files: list[BundleFile], *, header: dict[str, Any], key: Ed25519PrivateKey
) -> bytes:
    """The zip: every file, then `manifest.json` (their sums and `header`) and its signature."""
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths) or any(p in (MANIFEST, SIGNATURE) for p in paths):
        raise ValueError("bundle paths must be unique and not the manifest's")
    public = key.public_key()
    manifest = {
        "format": FORMAT,
        **header,
        "key_id": key_id(public),
        "public_key": base64.b64encode(public_key_bytes(public)).decode("ascii"),
        "files": [
            {
                "path": f.path,
                "size": len(f.data),
                "sha256": hashlib.sha256(f.data).hexdigest(),
                **f.meta,
            }
            for f in files
        ],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    signature = base64.b64encode(key.sign(manifest_bytes))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.writestr(f.path, f.data)
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, signature)
    return buffer.getvalue()


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    key_id: str | None = None
    trusted_key: bool = False
    files: int = 0
    manifest: dict[str, Any] | None = None


def verify_bundle(data: bytes, *, trusted: Ed25519PublicKey | None = None) -> Verification:
    """Check the signature of the manifest and every file's SHA-256 and size.

    With `trusted`, the manifest must be signed by that key; without it, by the key the
    manifest names (which proves integrity, not origin: compare `key_id` with the platform's).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return Verification(False, ["not a zip file"])
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names or SIGNATURE not in names:
            return Verification(False, [f"{MANIFEST} or {SIGNATURE} is missing"])
        manifest_bytes = archive.read(MANIFEST)
        try:
            manifest = json.loads(manifest_bytes)
            named = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest["public_key"]))
            signature = base64.b64decode(archive.read(SIGNATURE), validate=True)
        except (ValueError, KeyError, TypeError):
            return Verification(False, ["the manifest or its signature is unreadable"])
        key = trusted or named
        result = Verification(True, [], key_id=key_id(key), trusted_key=trusted is not None)
        result.manifest = manifest
        try:
            key.verify(signature, manifest_bytes)
        except InvalidSignature:
            result.problems.append("the manifest's signature does not match (altered or other key)")
        listed = {entry["path"]: entry for entry in manifest.get("files", [])}
        for path, entry in listed.items():
            if path not in names:
                result.problems.append(f"{path}: listed but missing")
                continue
            content = archive.read(path)
            if (
                len(content) != entry["size"]
                or hashlib.sha256(content).hexdigest() != entry["sha256"]
            ):
                result.problems.append(f"{path}: SHA-256 differs from the manifest")
        for extra in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
            result.problems.append(f"{extra}: not in the manifest")
        result.files = len(listed)
    result.ok = not result.problems
    return result
