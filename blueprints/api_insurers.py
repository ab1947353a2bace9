"""API routes: insurers' claim data and payments."""

from __future__ import annotations

from typing import Any

OPENAPI_PATHS: dict[str, Any] = {}
