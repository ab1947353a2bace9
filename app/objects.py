"""The app's object store, made ready (folder or bucket created) on first use."""

from __future__ import annotations

import threading

from flask import current_app

from storage import ObjectStore

_ready_lock = threading.Lock()


def get_store() -> ObjectStore:
    """The configured evidence store, its bucket or folder created if missing."""
    extensions = current_app.extensions
    store: ObjectStore = extensions["daojiao.store"]
    if not extensions.get("daojiao.store_ready"):
        with _ready_lock:
            if not extensions.get("daojiao.store_ready"):
                store.ensure_ready()
                extensions["daojiao.store_ready"] = True
    return store
