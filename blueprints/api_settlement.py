"""API routes: the settlement agreement: drafting its PDF and recording the signatures."""

from __future__ import annotations

from typing import Any

OPENAPI_PATHS: dict[str, Any] = {}
