"""Tests of the evidence object stores against real components (disk and moto S3)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from minio import Minio

from storage import (
    IntegrityError,
    LocalStore,
    MinioStore,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    StoredObject,
    make_store,
    new_key,
)
from tests.support import servers

MOTO_ACCESS_KEY = servers.S3_ACCESS_KEY
MOTO_SECRET_KEY = servers.S3_SECRET_KEY
_free_port = servers.free_port


@pytest.fixture(scope="module")
def moto_endpoint(s3_endpoint: str) -> str:
    """The run's moto S3 server (tests/conftest.py)."""
    return s3_endpoint


@pytest.fixture(scope="module")
def bucket() -> str:
    """Return a bucket name unique to this test module run."""
    return f"daojiao-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def raw_client(moto_endpoint: str) -> Minio:
    """Return a plain minio client that bypasses MinioStore."""
    return Minio(
        moto_endpoint,
        access_key=MOTO_ACCESS_KEY,
        secret_key=MOTO_SECRET_KEY,
        secure=False,
    )


def _minio_store(endpoint: str, bucket: str) -> MinioStore:
    """Return a MinioStore with the moto credentials."""
    return MinioStore(
        endpoint,
        access_key=MOTO_ACCESS_KEY,
        secret_key=MOTO_SECRET_KEY,
        bucket=bucket,
    )


@pytest.fixture(params=["local", "minio"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Return a ready store of each kind."""
    if request.param == "local":
        result: ObjectStore = LocalStore(tmp_path / "objects")
    else:
        result = _minio_store(
            request.getfixturevalue("moto_endpoint"),
            request.getfixturevalue("bucket"),
        )
    result.ensure_ready()
    return result


def _tamper(store: ObjectStore, key: str, data: bytes, request: pytest.FixtureRequest) -> None:
    """Replace the stored bytes behind the store's back."""
    if isinstance(store, LocalStore):
        path = store.root / key
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        assert isinstance(store, MinioStore)
        client: Minio = request.getfixturevalue("raw_client")
        client.put_object(store.bucket, key, io.BytesIO(data), len(data))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- behaviour shared by both stores ---------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.7 evidence\n", os.urandom(6 * 1024 * 1024)],
    ids=["empty", "small", "multipart-6MiB"],
)
def test_put_stat_read_round_trip(store: ObjectStore, data: bytes) -> None:
    key = new_key(7)
    assert not store.exists(key)

    stored = store.put(data, key=key, media_type="application/pdf")

    expected = StoredObject(
        key=key, sha256=_sha(data), size=len(data), media_type="application/pdf"
    )
    assert stored == expected
    assert store.exists(key)
    assert store.stat(key) == expected
    assert store.read(key, sha256=expected.sha256) == data
    # Digests are compared case-insensitively on the caller's side.
    assert store.read(key, sha256=expected.sha256.upper()) == data


def test_put_refuses_to_overwrite(store: ObjectStore) -> None:
    key = new_key(1)
    original = store.put(b"first", key=key, media_type="text/plain")

    with pytest.raises(ObjectExists, match=re.escape(key)):
        store.put(b"second", key=key, media_type="text/plain")

    assert store.read(key, sha256=original.sha256) == b"first"
    assert store.stat(key) == original


def test_missing_key(store: ObjectStore) -> None:
    key = new_key(None)

    assert not store.exists(key)
    with pytest.raises(ObjectNotFound):
        store.read(key, sha256=_sha(b""))
    with pytest.raises(ObjectNotFound):
        store.stat(key)


def test_tampering_is_detected(store: ObjectStore, request: pytest.FixtureRequest) -> None:
    key = new_key(3)
    stored = store.put(b"genuine evidence", key=key, media_type="text/plain")
    forged = b"forged evidence!"

    _tamper(store, key, forged, request)

    with pytest.raises(IntegrityError) as excinfo:
        store.read(key, sha256=stored.sha256)
    message = str(excinfo.value)
    assert key in message
    assert stored.sha256 in message
    assert _sha(forged) in message


def test_read_rejects_malformed_digest(store: ObjectStore) -> None:
    key = new_key(1)
    store.put(b"x", key=key, media_type="text/plain")

    with pytest.raises(ValueError, match="SHA-256"):
        store.read(key, sha256="not-a-digest")


def test_presigned_expiry_is_limited(store: ObjectStore) -> None:
    key = new_key(1)
    store.put(b"x", key=key, media_type="text/plain")

    with pytest.raises(ValueError, match="expiry"):
        store.presigned_url(key, expires=timedelta(hours=1, seconds=1))
    with pytest.raises(ValueError, match="expiry"):
        store.presigned_url(key, expires=timedelta(0))


def test_ensure_ready_is_idempotent(store: ObjectStore) -> None:
    store.ensure_ready()
    store.ensure_ready()


# --- new_key ----------------------------------------------------------------


def test_new_key_format() -> None:
    first, second = new_key(42), new_key(42)

    assert re.fullmatch(r"cases/42/[0-9a-f]{32}", first)
    assert first != second
    assert re.fullmatch(r"unfiled/[0-9a-f]{32}", new_key(None))


@pytest.mark.parametrize("case_id", [-1, True, "7"])
def test_new_key_rejects_odd_case_ids(case_id: object) -> None:
    with pytest.raises(ValueError, match="case id"):
        new_key(case_id)  # type: ignore[arg-type]


# --- LocalStore specifics ---------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "cases/../../x",
        "/etc/passwd",
        "",
        "a//b",
        "a/",
        "cases/.hidden",
        "x.meta.json",
        "with space",
        "ümlaut",
        "a\\b",
    ],
)
def test_local_rejects_unsafe_keys(tmp_path: Path, key: str) -> None:
    store = LocalStore(tmp_path / "objects")
    store.ensure_ready()

    with pytest.raises(ValueError, match="key"):
        store.put(b"x", key=key, media_type="text/plain")
    with pytest.raises(ValueError, match="key"):
        store.read(key, sha256=_sha(b"x"))
    with pytest.raises(ValueError, match="key"):
        store.exists(key)
    assert sorted(tmp_path.rglob("*")) == [tmp_path / "objects"]


def test_local_layout_is_read_only_and_clean(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    key = new_key(5)

    store.put(b"data", key=key, media_type="image/png")

    path = store.root / key
    meta = path.with_name(path.name + ".meta.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(meta.stat().st_mode) == 0o444
    # Temp files are gone; only the object and its sidecar remain.
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, meta.name])


def test_local_concurrent_puts_have_one_winner(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    key = new_key(6)
    payloads = [f"writer {n}".encode() for n in range(8)]

    def attempt(data: bytes) -> bytes | None:
        try:
            store.put(data, key=key, media_type="text/plain")
        except ObjectExists:
            return None
        return data

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        winners = [data for data in pool.map(attempt, payloads) if data is not None]

    assert len(winners) == 1
    assert store.stat(key).sha256 == _sha(winners[0])
    assert store.read(key, sha256=_sha(winners[0])) == winners[0]


def test_local_foreign_file_is_not_adopted(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    key = new_key(8)
    path = store.root / key
    path.parent.mkdir(parents=True)
    path.write_bytes(b"dropped in by hand")

    with pytest.raises(ObjectExists):
        store.put(b"ours", key=key, media_type="text/plain")

    # Our sidecar must not end up describing someone else's bytes.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    with pytest.raises(StorageError, match="metadata"):
        store.stat(key)


def test_local_ensure_ready_creates_folder(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    store = LocalStore(root)

    store.ensure_ready()

    assert root.is_dir()


def test_local_presigned_url_is_none(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = new_key(1)
    store.put(b"x", key=key, media_type="text/plain")

    assert store.presigned_url(key) is None


# --- MinioStore specifics ---------------------------------------------------


def test_minio_ensure_ready_creates_versioned_bucket(moto_endpoint: str, raw_client: Minio) -> None:
    name = f"daojiao-ready-{uuid.uuid4().hex[:12]}"
    store = _minio_store(moto_endpoint, name)
    assert not raw_client.bucket_exists(name)

    store.ensure_ready()
    store.ensure_ready()

    assert raw_client.bucket_exists(name)
    assert raw_client.get_bucket_versioning(name).status == "Enabled"


def test_minio_presigned_url_downloads(moto_endpoint: str, bucket: str) -> None:
    store = _minio_store(moto_endpoint, bucket)
    store.ensure_ready()
    key = new_key(9)
    store.put(b"presigned bytes", key=key, media_type="text/plain")

    url = store.presigned_url(key, expires=timedelta(hours=1))

    assert url is not None
    assert "X-Amz-Signature=" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"presigned bytes"


def test_minio_stat_requires_recorded_digest(
    moto_endpoint: str, bucket: str, raw_client: Minio
) -> None:
    store = _minio_store(moto_endpoint, bucket)
    store.ensure_ready()
    key = new_key(2)
    raw_client.put_object(bucket, key, io.BytesIO(b"foreign"), 7)

    with pytest.raises(StorageError, match="sha256"):
        store.stat(key)


def test_minio_unreachable_fails_fast() -> None:
    # Nothing listens on a port we bound and released: connection refused.
    store = _minio_store(f"127.0.0.1:{_free_port()}", "daojiao")
    started = time.monotonic()

    with pytest.raises(StorageUnavailable) as excinfo:
        store.put(b"x", key=new_key(1), media_type="text/plain")
    assert excinfo.value.__cause__ is not None
    with pytest.raises(StorageUnavailable):
        store.read(new_key(1), sha256=_sha(b"x"))
    with pytest.raises(StorageUnavailable):
        store.ensure_ready()

    assert time.monotonic() - started < 10


# --- make_store -------------------------------------------------------------


def test_make_store_local(tmp_path: Path) -> None:
    store = make_store({"OBJECT_STORE_PATH": str(tmp_path / "objs")})

    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "objs"
    assert not store.root.exists()  # the app factory calls ensure_ready


def test_make_store_s3(moto_endpoint: str) -> None:
    name = f"daojiao-make-{uuid.uuid4().hex[:12]}"
    store = make_store(
        {
            "S3_ENDPOINT": moto_endpoint,
            "S3_ACCESS_KEY": MOTO_ACCESS_KEY,
            "S3_SECRET_KEY": MOTO_SECRET_KEY,
            "S3_BUCKET": name,
            "S3_SECURE": "false",
            "OBJECT_STORE_PATH": "/nonexistent",
        }
    )
    assert isinstance(store, MinioStore)
    assert store.bucket == name

    store.ensure_ready()
    key = new_key(4)
    stored = store.put(b"via config", key=key, media_type="text/plain")
    assert store.read(key, sha256=stored.sha256) == b"via config"


def test_make_store_s3_default_bucket() -> None:
    store = make_store({"S3_ENDPOINT": "127.0.0.1:1", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b"})

    assert isinstance(store, MinioStore)
    assert store.bucket == "daojiao"
