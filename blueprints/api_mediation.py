"""API routes: mediation: assignment, sessions, failure; deadlines and notifications."""

from __future__ import annotations

from typing import Any

OPENAPI_PATHS: dict[str, Any] = {}
