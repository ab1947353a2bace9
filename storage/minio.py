"""Object store on an S3-compatible server (MinIO, AWS S3) via the minio client."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, timedelta
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, CopySource
from minio.error import MinioException, S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from storage import (
    QUARANTINE_PREFIX,
    ListedObject,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_expiry,
    check_sha256,
    validate_key,
    verified,
)

logger = logging.getLogger(__name__)

# User metadata header that carries the digest computed at put time.
_SHA256_HEADER = "x-amz-meta-sha256"

# S3 error codes that describe a server-side hiccup rather than a bad request.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "OperationAborted",
        "RequestTimeout",
        "ServiceUnavailable",
        "SlowDown",
        "XMinioServerNotInitialized",
    }
)

# The minio default (5 minute timeouts, 5 retries) makes a dead server hang a request for
# minutes. A web request waiting on the store must fail within seconds instead, with a 503 the
# client can act on: 2 s to connect, 5 s for each wait on the server's answer. A connection
# refused or timed out never reached the server and is tried once more; an answer that timed out
# is not (the server is up but hung: a second wait only doubles the stall); a 5xx answer is tried
# once more after a short pause whatever Retry-After says (a server may ask for minutes). Each
# call to the server therefore gives up within WORST_CASE_SECONDS, far below gunicorn's worker
# timeout in the Dockerfile; jobs treat the error as transient and retry later.
_CONNECT_TIMEOUT = 2.0
_READ_TIMEOUT = 5.0
_RETRIES = 1
_BACKOFF = 0.2
WORST_CASE_SECONDS = _CONNECT_TIMEOUT * (_RETRIES + 1) + _READ_TIMEOUT + _BACKOFF * _RETRIES


def _http_client() -> urllib3.PoolManager:
    """Return a connection pool with short timeouts and one retry of what is safe to retry."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=_CONNECT_TIMEOUT, read=_READ_TIMEOUT),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        # Same CA lookup as the minio default client.
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=_RETRIES,
            connect=_RETRIES,
            read=0,
            status=_RETRIES,
            backoff_factor=_BACKOFF,
            backoff_max=_BACKOFF * 2**_RETRIES,
            status_forcelist=(500, 502, 503, 504),
            respect_retry_after_header=False,
        ),
    )


def _recorded_sha256(metadata: Mapping[str, Any] | None) -> str | None:
    """Return the sha256 user metadata value, matching the header name in any case."""
    for name, value in (metadata or {}).items():
        if name.lower() == _SHA256_HEADER:
            return str(value)
    return None


class MinioStore:
    """Immutable evidence objects in one bucket of an S3-compatible server."""

    def __init__(
        self,
        endpoint: str,
        *,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
    ) -> None:
        """Connect lazily to endpoint ("host:port") and use the given bucket."""
        self.endpoint = endpoint
        self.bucket = bucket
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=_http_client(),
        )

    def __repr__(self) -> str:
        """Show endpoint and bucket, never the credentials."""
        return f"MinioStore({self.endpoint!r}, bucket={self.bucket!r})"

    @contextlib.contextmanager
    def _errors(self, key: str | None) -> Iterator[None]:
        """Translate minio and network errors into store errors."""
        what = f"object {key!r}" if key else f"bucket {self.bucket!r}"
        try:
            yield
        except S3Error as exc:
            if key and exc.code == "NoSuchKey":
                raise ObjectNotFound(f"no object stored under {key!r}") from exc
            if exc.code in _TRANSIENT_CODES:
                logger.warning("S3 transient error on %s: %s", what, exc.code)
                raise StorageUnavailable(f"S3 server failed on {what}: {exc.code}") from exc
            raise StorageError(f"S3 error on {what}: {exc.code}: {exc.message}") from exc
        except ServerError as exc:
            logger.warning("S3 server error on %s: %s", what, exc)
            raise StorageUnavailable(f"S3 server failed on {what}: {exc}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            logger.warning("S3 endpoint %s unreachable: %s", self.endpoint, exc)
            raise StorageUnavailable(
                f"S3 endpoint {self.endpoint} unreachable while accessing {what}"
            ) from exc
        except MinioException as exc:
            raise StorageError(f"S3 error on {what}: {exc}") from exc

    def put(self, data: bytes, *, key: str, media_type: str) -> StoredObject:
        """Store data under a new key; raise ObjectExists if the key is taken."""
        validate_key(key)
        stored = StoredObject(
            key=key,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            media_type=media_type,
        )
        # Check-then-put is not atomic (minio-py cannot send If-None-Match),
        # but keys are random UUIDs and bucket versioning keeps any version a
        # racing writer would replace.
        if self.exists(key):
            raise ObjectExists(f"object {key!r} already exists")
        with self._errors(key):
            self._client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=media_type,
                metadata={"sha256": stored.sha256},
            )
        logger.info("stored %s (%d bytes, sha256 %s)", key, stored.size, stored.sha256)
        return stored

    def read(self, key: str, *, sha256: str) -> bytes:
        """Return the whole object after checking it against the expected digest."""
        expected = check_sha256(sha256)
        validate_key(key)
        with self._errors(key):
            response = self._client.get_object(self.bucket, key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        return verified(key, data, expected)

    def stat(self, key: str) -> StoredObject:
        """Return the digest recorded at put time and the server's size and type."""
        validate_key(key)
        with self._errors(key):
            info = self._client.stat_object(self.bucket, key)
        recorded = _recorded_sha256(info.metadata)
        if recorded is None:
            raise StorageError(f"object {key!r} has no recorded sha256 metadata")
        try:
            digest = check_sha256(recorded)
        except ValueError as exc:
            raise StorageError(f"object {key!r} has malformed sha256 metadata") from exc
        return StoredObject(
            key=key,
            sha256=digest,
            size=int(info.size or 0),
            media_type=info.content_type or "application/octet-stream",
        )

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under the key."""
        validate_key(key)
        try:
            with self._errors(key):
                self._client.stat_object(self.bucket, key)
        except ObjectNotFound:
            return False
        return True

    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5)) -> str | None:
        """Return a GET URL valid for expires (at most one hour)."""
        validate_key(key)
        check_expiry(expires)
        # The URL names the endpoint this app uses; browsers must reach it too.
        with self._errors(key):
            return self._client.presigned_get_object(self.bucket, key, expires=expires)

    def ensure_ready(self) -> None:
        """Create the bucket if missing and enable versioning where supported."""
        with self._errors(None):
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                    logger.info("created bucket %s", self.bucket)
                except S3Error as exc:
                    # Another worker may have created it since bucket_exists.
                    if exc.code != "BucketAlreadyOwnedByYou":
                        raise
            self._enable_versioning()

    def list_objects(self, prefix: str) -> Iterator[ListedObject]:
        """Yield the objects whose keys start with prefix (all pages, no folders)."""
        with self._errors(None):
            for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if item.is_dir or item.object_name is None or item.last_modified is None:
                    continue
                yield ListedObject(
                    key=item.object_name,
                    size=int(item.size or 0),
                    last_modified=item.last_modified.astimezone(UTC),
                )

    def quarantine(self, key: str) -> str:
        """Copy the object (metadata included) under QUARANTINE_PREFIX, then remove the original.

        With bucket versioning on, the removal only adds a delete marker: the original bytes
        stay recoverable as well.
        """
        target = validate_key(QUARANTINE_PREFIX + validate_key(key))
        if not self.exists(key):
            raise ObjectNotFound(f"no object stored under {key!r}")
        if self.exists(target):
            raise ObjectExists(f"object {target!r} already exists")
        with self._errors(key):
            self._client.copy_object(self.bucket, target, CopySource(self.bucket, key))
            self._client.remove_object(self.bucket, key)
        logger.warning("quarantined %s as %s", key, target)
        return target

    def _enable_versioning(self) -> None:
        """Turn on bucket versioning so overwrites and deletes stay recoverable."""
        try:
            if self._client.get_bucket_versioning(self.bucket).status == ENABLED:
                return
            self._client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
            logger.info("enabled versioning on bucket %s", self.bucket)
        except S3Error as exc:
            if exc.code != "NotImplemented":
                raise
            logger.warning(
                "S3 server does not support versioning on bucket %s: %s",
                self.bucket,
                exc.message,
            )
