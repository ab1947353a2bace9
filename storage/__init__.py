"""Evidence object store: immutable, content-verified blobs on disk or S3/MinIO."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from storage.local import LocalStore
    from storage.minio import MinioStore

__all__ = [
    "MAX_PRESIGN_EXPIRY",
    "KEY_PREFIXES",
    "QUARANTINE_PREFIX",
    "IntegrityError",
    "ListedObject",
    "LocalStore",
    "MinioStore",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "make_store",
    "new_key",
    "validate_key",
]

# Presigned links leak to browsers, proxies and logs; keep their lifetime short.
MAX_PRESIGN_EXPIRY = timedelta(hours=1)

_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Suffix of LocalStore's metadata sidecar; a key ending in it would collide.
META_SUFFIX = ".meta.json"
# The folders new_key() writes to: the only ones the orphan sweep looks at.
KEY_PREFIXES = ("cases/", "unfiled/")
# Where the orphan sweep moves objects no row refers to; nothing under it is ever deleted.
QUARANTINE_PREFIX = "quarantine/"


logger = logging.getLogger(__name__)


class StorageError(Exception):
    """Base class of all object store errors."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class IntegrityError(StorageError):
    """Stored bytes do not match the SHA-256 recorded for them."""


class ObjectExists(StorageError):
    """An object already exists under the key; evidence is never overwritten."""


class StorageUnavailable(StorageError):
    """The store could not be reached or failed transiently; callers may retry."""


@dataclass(frozen=True)
class StoredObject:
    """Description of one stored object."""

    key: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class ListedObject:
    """One entry of a store listing: enough to tell an object's age without reading it."""

    key: str
    size: int
    last_modified: datetime


class ObjectStore(Protocol):
    """Interface shared by all evidence object stores."""

    def put(self, data: bytes, *, key: str, media_type: str) -> StoredObject:
        """Store data under a new key; raise ObjectExists if the key is taken."""
        ...

    def read(self, key: str, *, sha256: str) -> bytes:
        """Return the whole object after checking it against the expected digest."""
        ...

    def stat(self, key: str) -> StoredObject:
        """Return the object's recorded digest, size and media type."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under the key."""
        ...

    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5)) -> str | None:
        """Return a time-limited download URL, or None if the app must serve it."""
        ...

    def ensure_ready(self) -> None:
        """Create the folder or bucket if missing and enable versioning."""
        ...

    def list_objects(self, prefix: str) -> Iterator[ListedObject]:
        """Yield the objects whose keys start with prefix, with their UTC modification time."""
        ...

    def quarantine(self, key: str) -> str:
        """Move the object under QUARANTINE_PREFIX (digest metadata kept); return its new key."""
        ...


def new_key(case_id: int | None) -> str:
    """Return a fresh server-made key; user file names never become keys."""
    suffix = uuid.uuid4().hex
    if case_id is None:
        return f"unfiled/{suffix}"
    # bool is an int subclass; True would silently become case 1.
    if isinstance(case_id, bool) or not isinstance(case_id, int) or case_id < 0:
        raise ValueError(f"invalid case id: {case_id!r}")
    return f"cases/{case_id}/{suffix}"


def validate_key(key: str) -> str:
    """Return key unchanged if it is a safe relative object key, else raise ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"object key must be relative: {key!r}")
    for segment in key.split("/"):
        if not _KEY_SEGMENT.fullmatch(segment):
            raise ValueError(f"object key has an empty or invalid segment: {key!r}")
        # Leading dots cover "." and ".." and keep LocalStore's temp files private.
        if segment.startswith("."):
            raise ValueError(f"object key segment may not start with '.': {key!r}")
    if key.endswith(META_SUFFIX):
        raise ValueError(f"object key may not end with {META_SUFFIX!r}: {key!r}")
    return key


def check_sha256(digest: str) -> str:
    """Return the digest in lowercase hex, or raise ValueError if malformed."""
    normalized = digest.lower() if isinstance(digest, str) else ""
    if not _SHA256_HEX.fullmatch(normalized):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return normalized


def check_expiry(expires: timedelta) -> None:
    """Raise ValueError unless 1 second <= expires <= MAX_PRESIGN_EXPIRY."""
    if expires < timedelta(seconds=1) or expires > MAX_PRESIGN_EXPIRY:
        raise ValueError(
            f"presigned URL expiry must be between 1 second and {MAX_PRESIGN_EXPIRY}, got {expires}"
        )


def verified(key: str, data: bytes, expected: str) -> bytes:
    """Return `data` if its SHA-256 is `expected`; otherwise log and raise IntegrityError."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        logger.error("integrity check failed for %s: expected %s, got %s", key, expected, actual)
        raise IntegrityError(f"object {key!r} is corrupt: expected sha256 {expected}, got {actual}")
    return data


def _as_bool(value: Any) -> bool:
    """Interpret a config value as a boolean, accepting env-style strings."""
    if isinstance(value, str):
        # bool("false") is True, which would silently switch TLS on.
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def make_store(config: Mapping[str, Any]) -> ObjectStore:
    """Build the object store described by the app config (S3 if S3_ENDPOINT set)."""
    endpoint = config.get("S3_ENDPOINT")
    if endpoint:
        from storage.minio import MinioStore

        return MinioStore(
            endpoint,
            access_key=config.get("S3_ACCESS_KEY"),
            secret_key=config.get("S3_SECRET_KEY"),
            bucket=config.get("S3_BUCKET") or "daojiao",
            secure=_as_bool(config.get("S3_SECURE", False)),
            region=config.get("S3_REGION") or None,
        )
    from storage.local import LocalStore

    return LocalStore(config["OBJECT_STORE_PATH"])


def __getattr__(name: str) -> Any:
    """Import the store classes lazily so their modules can import this one."""
    if name == "LocalStore":
        from storage.local import LocalStore

        return LocalStore
    if name == "MinioStore":
        from storage.minio import MinioStore

        return MinioStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
