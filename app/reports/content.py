"""A faster page-content reader on top of pdfminer's interpreter.

pdfminer tokenises content streams one character state at a time; on report pages full of
table rules and short text runs that is most of the parse. This interpreter keeps pdfminer's
operators, fonts and graphics state, and replaces only the tokenizer (one compiled regular
expression) and the per-character text loop (no LTChar objects, no state copies). The same
goes for the ToUnicode maps of simple fonts (LibreOffice and reportlab embed text as many
256-glyph subsets, each with its map).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from pdfminer.cmapdb import FileUnicodeMap
from pdfminer.converter import PDFLayoutAnalyzer
from pdfminer.layout import LTChar
from pdfminer.pdffont import PDFFont, PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdftypes import PDFStream, resolve1, stream_value
from pdfminer.psparser import KWD, LIT, literal_name
from pdfminer.utils import apply_matrix_rect, mult_matrix

_WS = rb"\x00\t\n\x0c\r "
_DELIM = rb"()<>\[\]{}/%"
TOKEN_RE = re.compile(
    rb"[" + _WS + rb"]*(?:"
    rb"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?![^" + _WS + _DELIM + rb"])"
    rb"|(?P<name>/[^" + _WS + _DELIM + rb"]*)"
    rb"|(?P<str>\((?:[^()\\]|\\.)*\))"
    rb"|(?P<nested>\()"
    rb"|(?P<dopen><<)|(?P<dclose>>>)"
    rb"|(?P<hex><[0-9A-Fa-f" + _WS + rb"]*>)"
    rb"|(?P<aopen>\[)|(?P<aclose>\])"
    rb"|(?P<comment>%[^\r\n]*)"
    rb"|(?P<kw>[^" + _WS + _DELIM + rb"]+)"
    rb"|(?P<junk>.)"
    rb")",
    re.S,
)
_ESCAPE_RE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_HEX_NAME_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
_INLINE_END_RE = re.compile(rb"[" + _WS + rb"]EI(?=[" + _WS + rb"]|$)")
_WS_RE = re.compile(rb"[" + _WS + rb"]")
_NAMES: dict[bytes, object] = {}
_OPERATORS: dict[bytes, tuple[str, int]] = {}
_CACHE_LIMIT = 4096


def _unescape(match: re.Match) -> bytes:
    octal, newline, other = match.groups()
    if octal is not None:
        return bytes((int(octal, 8) & 0xFF,))
    if newline is not None:
        return b""
    return _ESCAPES.get(other, other)


def _string(body: bytes) -> bytes:
    return _ESCAPE_RE.sub(_unescape, body) if b"\\" in body else body


def _hex(digits: bytes) -> bytes:
    try:
        return bytes.fromhex(digits.decode("ascii"))  # skips ASCII white space itself
    except ValueError:
        digits = _WS_RE.sub(b"", digits)
        # An odd count means a final 0 (ISO 32000-1, 7.3.4.3).
        return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode("ascii"))


def _nested_string(data: bytes, start: int) -> tuple[bytes, int]:
    """A literal string with nested parentheses, from the '(' at `start`; (value, end)."""
    depth = 0
    i = start
    size = len(data)
    while i < size:
        ch = data[i]
        if ch == 0x5C:  # backslash
            i += 2
            continue
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                return _string(data[start + 1 : i]), i + 1
        i += 1
    return _string(data[start + 1 :]), size


def _name(raw: bytes) -> object:
    lit = _NAMES.get(raw)
    if lit is None:
        text = _HEX_NAME_RE.sub(lambda m: bytes((int(m.group(1), 16),)), raw[1:])
        try:
            lit = LIT(str(text, "utf-8"))
        except UnicodeDecodeError:
            lit = LIT(text)
        if len(_NAMES) < _CACHE_LIMIT:  # a hostile file must not grow the cache forever
            _NAMES[raw] = lit
    return lit


def _operator(token: bytes) -> tuple[str, int] | None:
    """pdfminer's do_* method name and operand count for an operator, cached."""
    entry = _OPERATORS.get(token)
    if entry is not None:
        return entry
    name = token.decode("latin-1")
    method = "do_" + name.replace("*", "_a").replace('"', "_w").replace("'", "_q")
    func = getattr(FastInterpreter, method, None)
    if func is None:
        return None
    entry = (method, func.__code__.co_argcount - 1)
    _OPERATORS[token] = entry  # only the ~70 operators pdfminer knows get here
    return entry


_BF_BLOCK_RE = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.S)
_BF_TOKEN_RE = re.compile(rb"<([0-9A-Fa-f" + _WS + rb"]*)>|(\[)|(\])|(\S)")


def _unicode_map(data: bytes) -> FileUnicodeMap | None:
    """A ToUnicode CMap's bfchar/bfrange entries, as pdfminer's CMapParser reads them.

    None for anything unusual (usecmap, glyph names, stray tokens): pdfminer then reads it.
    """
    if b"usecmap" in data:
        return None
    unicode_map = FileUnicodeMap()
    for block in _BF_BLOCK_RE.finditer(data):
        items: list = []
        array: list[bytes] | None = None
        for m in _BF_TOKEN_RE.finditer(block.group(2)):
            hex_digits, opened, closed, other = m.groups()
            if other is not None:
                return None
            if opened is not None:
                array = []
            elif closed is not None:
                if array is None:
                    return None
                items.append(array)
                array = None
            else:
                value = _hex(hex_digits)
                if array is not None:
                    array.append(value)
                else:
                    items.append(value)
        if block.group(1) == b"char":
            if len(items) % 2 or any(isinstance(item, list) for item in items):
                return None
            for src, dst in zip(items[::2], items[1::2], strict=True):
                unicode_map.add_cid2unichr(int.from_bytes(src, "big"), dst)
            continue
        if len(items) % 3:
            return None
        for low, high, dst in zip(items[::3], items[1::3], items[2::3], strict=True):
            if isinstance(low, list) or isinstance(high, list) or len(low) != len(high):
                return None
            first, last = int.from_bytes(low, "big"), int.from_bytes(high, "big")
            if isinstance(dst, list):
                for cid, value in zip(range(first, last + 1), dst, strict=False):
                    unicode_map.add_cid2unichr(cid, value)
            else:
                # The last (up to four) bytes count up from the first code (PDF 9.10.3).
                prefix, tail = dst[:-4], dst[-4:]
                base, size = int.from_bytes(tail, "big"), len(tail)
                for i in range(last - first + 1):
                    code = prefix + struct.pack(">L", base + i)[-size:]
                    unicode_map.add_cid2unichr(first + i, code)
    return unicode_map


class Resources(PDFResourceManager):
    """pdfminer's resource manager, reading simple fonts' ToUnicode maps faster."""

    def get_font(self, objid: object, spec: dict) -> PDFFont:
        """The font for `spec`, built by pdfminer, with the ToUnicode map read here."""
        if objid and objid in self._cached_fonts:
            return self._cached_fonts[objid]
        subtype = resolve1(spec.get("Subtype"))
        stream = resolve1(spec.get("ToUnicode"))
        if literal_name(subtype) in ("Type1", "MMType1", "TrueType") and isinstance(
            stream, PDFStream
        ):
            unicode_map = _unicode_map(stream.get_data())
            if unicode_map is not None:
                font = super().get_font(None, {k: v for k, v in spec.items() if k != "ToUnicode"})
                font.unicode_map = unicode_map
                if objid and self.caching:
                    self._cached_fonts[objid] = font
                return font
        return super().get_font(objid, spec)


class FastInterpreter(PDFPageInterpreter):
    """pdfminer's page interpreter with a regular-expression tokenizer."""

    def pop(self, n: int) -> list:
        """Pop n operands in place (pdfminer replaces the list, which the tokenizer holds)."""
        if n == 0:
            return []
        args = self.argstack[-n:]
        del self.argstack[-n:]
        return args

    def subinterp(self) -> PDFPageInterpreter:
        """An interpreter for a form XObject, sharing the guard against content loops."""
        interp = FastInterpreter(self.rsrcmgr, self.device)
        interp.parent_stream_ids = self.parent_stream_ids | self.stream_ids
        return interp

    def do_TJ(self, seq: object) -> None:
        """Show text (TJ), handing the device the live graphics state."""
        if self.textstate.font is None:
            return
        # The device keeps no per-character state, so the graphics state is not copied.
        self.device.render_string(self.textstate, seq, self.graphicstate.ncs, self.graphicstate)

    def execute(self, streams: Sequence[object]) -> None:
        """Run the page's content streams through the regular-expression tokenizer."""
        valid = []
        self.stream_ids.clear()
        for obj in streams:
            stream = stream_value(obj)
            # Same guard as pdfminer: never run a content stream inside itself (CWE-835).
            if stream.objid is None or stream.objid in self.parent_stream_ids:
                continue
            valid.append(stream)
            self.stream_ids.add(stream.objid)
        if not valid:
            return
        data = b"\n".join(stream.get_data() for stream in valid)
        self._run(data)

    def _run(self, data: bytes) -> None:
        stack = self.argstack
        containers: list[list] = []
        kinds: list[bytes] = []
        methods: dict[bytes, tuple[object, int] | None] = {}
        pos = 0
        size = len(data)
        match_at = TOKEN_RE.match
        while pos < size:
            m = match_at(data, pos)
            if m is None:
                break
            pos = m.end()
            kind = m.lastgroup
            if kind == "num":
                raw = m.group(kind)
                value: object = float(raw) if b"." in raw else int(raw)
            elif kind == "kw":
                token = m.group(kind)
                if token == b"true" or token == b"false":
                    value = token == b"true"
                elif token == b"null":
                    value = None
                elif containers:
                    value = KWD(token)
                elif token == b"BI":
                    pos = self._inline_image(data, pos)
                    continue
                else:
                    entry = methods.get(token, False)
                    if entry is False:
                        op = _operator(token)
                        entry = None if op is None else (getattr(self, op[0]), op[1])
                        methods[token] = entry
                    if entry is None:
                        continue
                    func, nargs = entry
                    if nargs:
                        if len(stack) >= nargs:
                            args = stack[-nargs:]
                            del stack[-nargs:]
                            func(*args)
                        else:
                            del stack[:]
                    else:
                        func()
                    continue
            elif kind == "name":
                value = _name(m.group(kind))
            elif kind == "str":
                raw = m.group(kind)
                value = _string(raw[1:-1])
            elif kind == "hex":
                value = _hex(m.group(kind)[1:-1])
            elif kind == "nested":
                value, pos = _nested_string(data, m.start(kind))
            elif kind == "aopen" or kind == "dopen":
                containers.append([])
                kinds.append(kind)
                continue
            elif kind == "aclose" or kind == "dclose":
                if not containers:
                    continue
                items = containers.pop()
                opened = kinds.pop()
                if opened == "dopen":
                    value = {
                        literal_name(k): v
                        for k, v in zip(items[::2], items[1::2], strict=False)
                        if v is not None
                    }
                else:
                    value = items
            else:  # comment or stray byte
                continue
            if containers:
                containers[-1].append(value)
            else:
                stack.append(value)

    def _inline_image(self, data: bytes, pos: int) -> int:
        """Read BI … ID <data> EI; returns the position after EI."""
        items: list = []
        size = len(data)
        while pos < size:
            m = TOKEN_RE.match(data, pos)
            if m is None:
                return size
            pos = m.end()
            kind = m.lastgroup
            if kind == "kw" and m.group(kind) == b"ID":
                break
            if kind == "name":
                items.append(_name(m.group(kind)))
            elif kind == "num":
                raw = m.group(kind)
                items.append(float(raw) if b"." in raw else int(raw))
            elif kind == "kw":
                items.append(m.group(kind) == b"true")
        start = pos + 1  # one white-space character follows ID
        end = _INLINE_END_RE.search(data, start)
        stop = end.start() if end else size
        attrs = {literal_name(k): v for k, v in zip(items[::2], items[1::2], strict=False)}
        self.do_EI(PDFStream(attrs, data[start:stop]))
        return end.end() if end else size


class Collector(PDFLayoutAnalyzer):
    """pdfminer device keeping characters as tuples (x0, y0, x1, y1, text) plus paths."""

    def __init__(self, rsrcmgr: object) -> None:
        super().__init__(rsrcmgr, pageno=1, laparams=None)
        self.chars: list[tuple[float, float, float, float, str]] = []
        self.images = 0
        self.unicode: dict[int, dict[int, str]] = {}

    def begin_page(self, page: object, ctm: tuple) -> None:
        """Start a page with no characters and no images."""
        super().begin_page(page, ctm)
        self.chars = []
        self.images = 0

    def end_page(self, page: object) -> None:
        """Finish a page without layout analysis; the caller reads chars and cur_item."""
        self.pageno += 1

    def render_image(self, name: str, stream: object) -> None:
        """Count an image (a page of images and no text is a scan)."""
        self.images += 1  # only counted: a page of images and no text is a scan

    def _text(self, font: object, cid: int) -> str:
        table = self.unicode.setdefault(id(font), {})
        text = table.get(cid)
        if text is None:
            try:
                text = font.to_unichr(cid)
            except PDFUnicodeNotDefined:
                text = "\ufffd"  # drawn but unreadable: keeps its place, never matches
            table[cid] = text
        return text

    def render_string(
        self, textstate: object, seq: object, ncs: object, graphicstate: object
    ) -> None:
        """Record each character of a horizontal text run as a box and its text."""
        font = textstate.font
        if font.is_vertical():
            super().render_string(textstate, seq, ncs, graphicstate)
            return
        a, b, c, d, e, f = mult_matrix(textstate.matrix, self.ctm)
        fontsize = textstate.fontsize
        scaling = textstate.scaling * 0.01
        charspace = textstate.charspace * scaling
        wordspace = 0 if font.is_multibyte() else textstate.wordspace * scaling
        rise = textstate.rise
        dxscale = 0.001 * fontsize * scaling
        x, y = textstate.linematrix
        # Same boxes as pdfminer's LTChar; rotated and mirrored text (stamps, watermarks) is
        # skipped as it never carries the report's fields.
        upright = a * d * scaling > 0 and b * c <= 0
        low = font.get_descent() * fontsize + rise
        high = low + fontsize
        straight = b == 0 and c == 0
        chars = self.chars
        width = font.char_width
        text_of = self._text
        needcharspace = False
        for obj in seq:
            if isinstance(obj, (int, float)):
                x -= obj * dxscale
                needcharspace = True
                continue
            if not isinstance(obj, bytes):
                continue
            for cid in font.decode(obj):
                if needcharspace:
                    x += charspace
                adv = width(cid) * fontsize * scaling
                if upright:
                    ox = x * a + y * c + e
                    oy = x * b + y * d + f
                    if straight:
                        x0, x1 = ox, ox + a * adv
                        y0, y1 = oy + d * low, oy + d * high
                    else:
                        x0, y0, x1, y1 = apply_matrix_rect(
                            (a, b, c, d, ox, oy), (0, low, adv, high)
                        )
                    chars.append(
                        (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), text_of(font, cid))
                    )
                x += adv
                if cid == 32 and wordspace:
                    x += wordspace
                needcharspace = True
        textstate.linematrix = (x, y)

    def render_char(
        self,
        matrix: tuple,
        font: object,
        fontsize: float,
        scaling: float,
        rise: float,
        cid: int,
        ncs: object,
        graphicstate: object,
    ) -> float:
        """Record one character of a vertical text run (pdfminer's own box)."""
        # Only vertical fonts get here (through pdfminer's render_string).
        item = LTChar(
            matrix,
            font,
            fontsize,
            scaling,
            rise,
            self._text(font, cid),
            font.char_width(cid),
            font.char_disp(cid),
            ncs,
            graphicstate,
        )
        if item.upright:
            self.chars.append((item.x0, item.y0, item.x1, item.y1, item.get_text()))
        return item.adv
