"""Filing packages: a signed manifest of SHA-256 sums that the court's filing office can check."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from app import bundles, signing

REPO = Path(__file__).resolve().parent.parent
FILES = [
    bundles.BundleFile("summary.json", b'{"case": "DJ-2026-000001"}', {"kind": "summary"}),
    bundles.BundleFile("documents/1-认定书.pdf", b"%PDF-1.7 report", {"document_id": 1}),
    bundles.BundleFile("documents/2-协议.pdf", b"%PDF-1.7 agreement", {"document_id": 2}),
]
HEADER = {"case_number": "DJ-2026-000001", "created_at": "2026-11-26T08:00:00+00:00"}


def rewrite(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The zip with some members replaced (bytes), removed (None) or added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name in changes:
                if changes[name] is not None:
                    target.writestr(name, changes[name])
            else:
                target.writestr(name, source.read(name))
        for name, content in changes.items():
            if name not in source.namelist() and content is not None:
                target.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_package_verifies_with_its_manifest_and_signature(key: Ed25519PrivateKey) -> None:
    data = bundles.build_bundle(FILES, header=HEADER, key=key)
    result = bundles.verify_bundle(data, trusted=key.public_key())
    assert result.ok, result.problems
    assert result.files == 3
    assert result.trusted_key
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["case_number"] == "DJ-2026-000001"
    assert {f["path"] for f in manifest["files"]} == {f.path for f in FILES}


def test_an_altered_document_is_named(key: Ed25519PrivateKey) -> None:
    data = bundles.build_bundle(FILES, header=HEADER, key=key)
    altered = rewrite(data, {"documents/2-协议.pdf": b"%PDF-1.7 agreement, amended"})
    result = bundles.verify_bundle(altered)
    assert not result.ok
    assert result.problems == ["documents/2-协议.pdf: SHA-256 differs from the manifest"]


def test_a_manifest_edited_to_match_fails_its_signature(key: Ed25519PrivateKey) -> None:
    data = bundles.build_bundle(FILES, header=HEADER, key=key)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    manifest["case_number"] = "DJ-2026-999999"
    forged = rewrite(data, {"manifest.json": json.dumps(manifest).encode()})
    result = bundles.verify_bundle(forged)
    assert not result.ok
    assert "signature does not match" in result.problems[0]


def test_missing_and_extra_files_are_named(key: Ed25519PrivateKey) -> None:
    data = bundles.build_bundle(FILES, header=HEADER, key=key)
    changed = rewrite(data, {"summary.json": None, "documents/3-extra.pdf": b"%PDF extra"})
    result = bundles.verify_bundle(changed)
    assert result.problems == [
        "summary.json: listed but missing",
        "documents/3-extra.pdf: not in the manifest",
    ]


def test_a_package_signed_by_another_key_fails_against_the_platform_key(
    key: Ed25519PrivateKey,
) -> None:
    data = bundles.build_bundle(FILES, header=HEADER, key=Ed25519PrivateKey.generate())
    assert bundles.verify_bundle(data).ok  # intact, but by whom: the key id says
    assert not bundles.verify_bundle(data, trusted=key.public_key()).ok


def test_not_a_zip_is_refused() -> None:
    assert bundles.verify_bundle(b"%PDF-1.7").problems == ["not a zip file"]


def test_the_platform_key_is_created_once_and_kept(app: Flask, tmp_path: Path) -> None:
    app.config["DAOJIAO_SIGNING_KEY"] = str(tmp_path / "keys" / "signing-key.pem")
    with app.app_context():
        first = signing.platform_key()
        again = signing.platform_key()
    assert bundles.key_id(first.public_key()) == bundles.key_id(again.public_key())
    assert (tmp_path / "keys" / "signing-key.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow  # the CLI in a process of its own
def test_daojiao_bundle_verify(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    package = tmp_path / "package.zip"
    package.write_bytes(bundles.build_bundle(FILES, header=HEADER, key=key))
    pem = tmp_path / "platform.pem"
    pem.write_text(signing.public_key_pem(key.public_key()))
    command = [sys.executable, "-c", "from app.cli import main; main()", "bundle", "verify"]
    ok = subprocess.run(
        [*command, str(package), "--public-key", str(pem)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK 3 file(s) of case DJ-2026-000001")
    package.write_bytes(rewrite(package.read_bytes(), {"summary.json": b"{}"}))
    bad = subprocess.run(
        [*command, str(package)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "FAIL summary.json: SHA-256 differs from the manifest" in bad.stdout
