"""The compensation engine (DOMAIN.md §2–4): plain data in, the explained assessment out.

No Flask and no database here: the CLI, the jobs and the tests call `assess` directly.
"""

from app.compensation.catalog import Catalog, StandardSet, packaged_catalog
from app.compensation.engine import assess
from app.compensation.inputs import InvalidInput
from app.compensation.rules import ENGINE_VERSION

__all__ = [
    "ENGINE_VERSION",
    "Catalog",
    "InvalidInput",
    "StandardSet",
    "assess",
    "packaged_catalog",
]
