"""API routes: offers and counter-offers for each payer (INTERFACES.md §4)."""

from __future__ import annotations

from typing import Any

OPENAPI_PATHS: dict[str, Any] = {}
