"""The one exception the report parser raises."""

from __future__ import annotations

CODES = (
    "not_pdf",
    "encrypted",
    "no_text_layer",
    "not_a_report",
    "too_large",
    "timeout",
    "damaged",
)


class ReportError(Exception):
    """A file that cannot be read as an accident report; `code` says why (see CODES)."""

    def __init__(self, code: str, message: str = "") -> None:
        if code not in CODES:
            raise ValueError(f"unknown report error code {code!r}")
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code

    def __reduce__(self) -> tuple:
        # Keeps the code and message when the error crosses the isolation pipe.
        return (type(self), (self.code, self.message))
