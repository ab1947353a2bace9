"""Character normalisation: what the matcher sees for each character drawn on the page."""

from __future__ import annotations

# Whitespace carries no meaning in these documents (LibreOffice and some converters put a space
# between every character), so it is dropped; line and cell structure is kept as markers.
SPACES = frozenset(
    " \t\r\n\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
)

# Markers the layout puts into the stream (they never come from the page).
CELL = "\t"  # next cell of a table row, or a wide gap inside a line
BREAK = "\n"  # end of a row, paragraph or block
MARKERS = CELL + BREAK


def _table() -> dict[str, str]:
    table = {}
    # Full-width digits, letters and a few symbols become ASCII so that numbers, plates and
    # policy numbers match one way; Chinese punctuation (，：（）) is kept as written.
    for code in range(0xFF10, 0xFF1A):
        table[chr(code)] = chr(code - 0xFEE0)
    for code in list(range(0xFF21, 0xFF3B)) + list(range(0xFF41, 0xFF5B)):
        table[chr(code)] = chr(code - 0xFEE0)
    for wide, narrow in zip("＋－．／＠＃％＆＊＝～", "+-./@#%&*=~", strict=True):
        table[wide] = narrow
    table["\u2212"] = "-"  # minus sign
    table["\u2014"] = "—"
    table["○"] = "〇"  # WHITE CIRCLE, often typed for the zero of Chinese dates
    table["◯"] = "〇"
    return table


NORMALIZE = _table()


def normalize_char(text: str) -> str:
    """The matcher's form of one drawn character ('' for whitespace)."""
    if len(text) == 1:
        if text in SPACES:
            return ""
        return NORMALIZE.get(text, text)
    return "".join(NORMALIZE.get(ch, ch) for ch in text if ch not in SPACES)


def squeeze(text: str) -> str:
    """The text without whitespace or layout markers."""
    return "".join(ch for ch in text if ch not in SPACES)
