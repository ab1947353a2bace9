"""Object store on the local file system, for development and single-host installs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import (
    META_SUFFIX,
    QUARANTINE_PREFIX,
    ListedObject,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    StoredObject,
    check_expiry,
    check_sha256,
    validate_key,
    verified,
)

logger = logging.getLogger(__name__)

_READ_ONLY = 0o444


class LocalStore:
    """Immutable evidence files under a root folder, each with a JSON sidecar."""

    def __init__(self, root: str | Path) -> None:
        """Use root as the store folder (created by ensure_ready or the first put)."""
        self.root = Path(root)

    def __repr__(self) -> str:
        """Show the store folder."""
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        """Return the data file path for a validated key."""
        return self.root / validate_key(key)

    @staticmethod
    def _meta_path(path: Path) -> Path:
        """Return the sidecar path belonging to a data file."""
        return path.with_name(path.name + META_SUFFIX)

    @contextlib.contextmanager
    def _io_errors(self, key: str, *, reading: bool = True) -> Iterator[None]:
        """Translate file system errors into store errors."""
        try:
            yield
        except FileNotFoundError as exc:
            if not reading:
                raise StorageError(f"local store I/O error on {key!r}: {exc}") from exc
            raise ObjectNotFound(f"no object stored under {key!r}") from exc
        except OSError as exc:
            raise StorageError(f"local store I/O error on {key!r}: {exc}") from exc

    def put(self, data: bytes, *, key: str, media_type: str) -> StoredObject:
        """Store data under a new key; raise ObjectExists if the key is taken."""
        path = self._path(key)
        meta_path = self._meta_path(path)
        stored = StoredObject(
            key=key,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            media_type=media_type,
        )
        meta = json.dumps(
            {
                "sha256": stored.sha256,
                "size": stored.size,
                "media_type": stored.media_type,
            }
        ).encode()
        temps: list[Path] = []
        with self._io_errors(key, reading=False):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # Both files are complete and durable before either becomes
                # visible, so a crash can never expose a half-written object.
                temps.append(_write_temp(path.parent, data))
                temps.append(_write_temp(path.parent, meta))
                # os.link never replaces an existing name: linking the sidecar
                # first claims the key atomically, and linking the data file
                # publishes the object. Readers treat the data file as "the
                # object", so they never see data without its sidecar.
                try:
                    os.link(temps[1], meta_path)
                except FileExistsError as exc:
                    raise ObjectExists(f"object {key!r} already exists") from exc
                try:
                    os.link(temps[0], path)
                except FileExistsError as exc:
                    # A data file without a sidecar was not made by put; do not
                    # attach our metadata to someone else's bytes.
                    meta_path.unlink()
                    raise ObjectExists(f"object {key!r} already exists") from exc
                _fsync_dir(path.parent)
            finally:
                for temp in temps:
                    temp.unlink(missing_ok=True)
        logger.info("stored %s (%d bytes, sha256 %s)", key, stored.size, stored.sha256)
        return stored

    def read(self, key: str, *, sha256: str) -> bytes:
        """Return the whole object after checking it against the expected digest."""
        expected = check_sha256(sha256)
        path = self._path(key)
        with self._io_errors(key):
            data = path.read_bytes()
        return verified(key, data, expected)

    def stat(self, key: str) -> StoredObject:
        """Return the digest and media type recorded at put time and the file size."""
        path = self._path(key)
        with self._io_errors(key):
            size = path.stat().st_size
        try:
            meta = json.loads(self._meta_path(path).read_bytes())
            return StoredObject(
                key=key,
                sha256=check_sha256(meta["sha256"]),
                size=size,
                media_type=str(meta["media_type"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"metadata of object {key!r} is unreadable") from exc

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under the key."""
        return self._path(key).is_file()

    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5)) -> str | None:
        """Return None: local objects are served through the app."""
        validate_key(key)
        # Validate anyway so callers see the same contract as the S3 store.
        check_expiry(expires)
        return None

    def ensure_ready(self) -> None:
        """Create the store folder if missing."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create store folder {self.root}") from exc

    def list_objects(self, prefix: str) -> Iterator[ListedObject]:
        """Yield the data files whose keys start with prefix (sidecars and temp files skipped)."""
        # Walk only the folder the prefix names; a partial last segment filters below.
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not folder.is_dir():
            return
        try:
            for path in sorted(folder.rglob("*")):
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix) or not path.is_file() or not _is_object_key(key):
                    continue
                info = path.stat()
                yield ListedObject(
                    key=key,
                    size=info.st_size,
                    last_modified=datetime.fromtimestamp(info.st_mtime, UTC),
                )
        except OSError as exc:
            raise StorageError(f"cannot list local store folder {folder}: {exc}") from exc

    def quarantine(self, key: str) -> str:
        """Link the object and its sidecar under QUARANTINE_PREFIX, then unlink the originals."""
        path = self._path(key)
        target = QUARANTINE_PREFIX + key
        target_path = self._path(target)
        with self._io_errors(key):
            if not path.is_file():
                raise FileNotFoundError(path)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            # Same order as put: the sidecar claims the new key, the data file publishes it.
            try:
                os.link(self._meta_path(path), self._meta_path(target_path))
            except FileExistsError as exc:
                raise ObjectExists(f"object {target!r} already exists") from exc
            os.link(path, target_path)
            _fsync_dir(target_path.parent)
            path.unlink()
            self._meta_path(path).unlink()
            _fsync_dir(path.parent)
        logger.warning("quarantined %s as %s", key, target)
        return target


def _is_object_key(key: str) -> bool:
    """Tell whether a relative path is an object's data file (not a sidecar or temp file)."""
    try:
        validate_key(key)
    except ValueError:
        return False
    return True


def _write_temp(folder: Path, payload: bytes) -> Path:
    """Write payload to a read-only, fsynced temp file in folder and return it."""
    # Same folder as the target so os.link stays on one file system.
    fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), _READ_ONLY)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries so new links survive a power loss."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
