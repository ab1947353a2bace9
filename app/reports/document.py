"""Document-level fields and the assembly of the parser's output (INTERFACES.md §2)."""

from __future__ import annotations

import re
from bisect import bisect_right

from .dates import DATE_RE, find_date, find_datetime, parse_date
from .errors import ReportError
from .labels import Label, LabelIndex, find_labels
from .layout import Layout
from .parties import (
    EXTRA_FIELDS,
    FIELDS,
    Draft,
    Reader,
    block_parties,
    column_per_party_table,
    column_table,
    find_markers,
    finish,
    read_liability,
    unmatched_liability_phrases,
)
from .text import CELL, MARKERS

DOCNO_RE = re.compile(
    r"[\u4e00-\u9fff]{1,12}[〔［\[【(（](?P<year>\d{4})[〕］\]】)）]第?[0-9A-Za-z\-]{1,20}号"
)
BARE_DOCNO_RE = re.compile(r"第?[0-9A-Za-z\-]{4,30}号")
YEAR_RE = re.compile(r"[〔［\[【(（](?P<year>\d{4})[〕］\]】)）]")
ORG_RE = re.compile(
    r"[\u4e00-\u9fff（）()]{1,40}?(?:公安局|公安分局|公安处|交通警察|交警|交巡警)"
    r"[\u4e00-\u9fff（）()]{0,30}?(?:大队|支队|中队|总队|分局|科|所|队)"
)
SEAL_RE = re.compile(r"[（(](?:印章|盖章|公章|专用章|章)[）)]")
STOP_RE = re.compile(r"[（(](?:印章|盖章|公章|专用章|章)[）)]|当事人对.{0,20}?(?:有异议|不服)")
ACCIDENT_RE = re.compile(r"意外")
VALUE_STOPS = frozenset(MARKERS + "，,；;。")
TEXT_SECTIONS = ("facts", "cause", "liability")
# Without the word 认定书, a text is taken for a report when it has three of these headings.
REPORT_FIELDS = frozenset(("accident_time", "location", "facts", "liability", "parties", "cause"))
MIN_TEXT = 12  # fewer readable characters than this: a scan with a stray text object


def extract(layout: Layout) -> dict:
    """The fields of one report, with provenance and warnings."""
    text = layout.text
    visible = sum(1 for ch in text if ch not in MARKERS)
    if visible < MIN_TEXT:
        what = "images without a text layer (a scan)" if layout.image_count else "empty"
        raise ReportError("no_text_layer", f"the pages are {what}")
    if text.count("\ufffd") * 2 > visible:
        # Glyphs drawn from fonts without a Unicode map: as unreadable as a scan.
        raise ReportError("no_text_layer", "the text layer cannot be decoded (no Unicode map)")
    labels = find_labels(text)
    index = LabelIndex(labels)
    reader = Reader(text)
    out = _Output(layout)

    sections = _sections(layout, labels)
    seen = {label.field for label in labels if label.kind in ("doc", "section")}
    if "认定书" not in text and len(seen & REPORT_FIELDS) < 3:
        raise ReportError("not_a_report", "no accident report wording found")

    table = column_table(layout, reader) or column_per_party_table(layout, reader)
    skip: list[tuple[int, int]] = [
        (s[1], s[2]) for name, s in sections.items() if name in TEXT_SECTIONS
    ]
    if table is not None:
        drafts, t_start, t_end = table
        skip.append((t_start, t_end))
    else:
        drafts = _block_parties(reader, labels, index, sections, text)

    _doc_fields(out, reader, labels, index, skip)
    head_end = min(
        (label.start for label in labels if label.kind in ("doc", "section")),
        default=min(len(text), 400),
    )
    _document_no(out, layout, head_end, sections)
    _procedure(out, text, head_end, sections)
    _issuer(out, layout, head_end)
    _issue_date(out, layout, sections)
    for name in ("facts", "cause"):
        if name in sections:
            _, start, end = sections[name]
            out.text_field(name, start, end)

    for page in layout.scanned_pages:
        out.warn("pages", f"page {page} is an image without a text layer; its text is not read")
    _liabilities(out, text, drafts, sections)
    for draft in drafts:
        finish(draft)
    out.parties(drafts)
    return out.result()


class _Output:
    """Collects values, provenance and warnings."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.values: dict[str, object] = {
            "document_no": None,
            "issuer": None,
            "procedure": None,
            "accident_time": None,
            "location": None,
            "weather": None,
            "issue_date": None,
            "parties": [],
            "facts": None,
            "cause": None,
            "year": None,
            "accident_date": None,
            "accident_form": None,
        }
        self.provenance: dict[str, dict] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.warnings: list[dict[str, str]] = []

    def set(self, field: str, value: object, spans: list[tuple[int, int]]) -> bool:
        """Fill `field` once, with the provenance of its spans."""
        if value is None or value == "" or self.values.get(field) is not None:
            return False
        self.values[field] = value
        self.spans[field] = spans
        box = self.layout.provenance(spans)
        if box is not None:
            self.provenance[field] = box
        return True

    def warn(self, field: str, message: str) -> None:
        """Note a doubt about `field`."""
        self.warnings.append({"field": field, "message": message})

    def text_field(self, field: str, start: int, end: int) -> None:
        """Fill a running-text field (facts, cause) from its section."""
        text = self.layout.text
        while start < end and text[start] in MARKERS + "：:":
            start += 1
        while end > start and text[end - 1] in MARKERS:
            end -= 1
        value = text[start:end].replace(CELL, "").strip()
        self.set(field, value or None, [(start, end)])

    def parties(self, drafts: list[Draft]) -> None:
        """Fill the parties, their provenance and their warnings."""
        parties = []
        for n, draft in enumerate(drafts):
            party: dict[str, object] = {}
            for field in FIELDS + EXTRA_FIELDS:
                value = draft.values.get(field)
                party[field] = value
                if value is not None:
                    box = self.layout.provenance(draft.spans[field])
                    if box is not None:
                        self.provenance[f"parties[{n}].{field}"] = box
            seen = set()
            for field, message in draft.warnings:
                if (field, message) not in seen:
                    seen.add((field, message))
                    self.warn(f"parties[{n}].{field}", message)
            parties.append(party)
        self.values["parties"] = parties

    def result(self) -> dict:
        """The output dictionary (INTERFACES.md §2 and additions)."""
        return {**self.values, "provenance": self.provenance, "warnings": self.warnings}


def _sections(layout: Layout, labels: list[Label]) -> dict[str, tuple[Label, int, int]]:
    """The first heading of each kind, with the span of its text (to the next heading)."""
    text = layout.text
    bounds = sorted(
        [label.start for label in labels if label.kind in ("section", "doc")]
        + [row.start for row in layout.rows if STOP_RE.search(text, row.start, row.end)]
        + [row.start for row in layout.rows if _is_date_row(text, row.start, row.end)]
    )
    found: dict[str, tuple[Label, int, int]] = {}
    for label in labels:
        if label.kind != "section" or label.field == "stop" or label.field in found:
            continue
        i = bisect_right(bounds, label.start)
        end = bounds[i] if i < len(bounds) else len(text)
        found[label.field] = (label, label.vstart, end)
    return found


def _is_date_row(text: str, start: int, end: int) -> bool:
    chunk = "".join(ch for ch in text[start:end] if ch not in MARKERS)
    return len(chunk) <= 16 and parse_date(chunk) is not None


def _block_parties(
    reader: Reader,
    labels: list[Label],
    index: LabelIndex,
    sections: dict[str, tuple[Label, int, int]],
    text: str,
) -> list[Draft]:
    later = [s[0].start for name, s in sections.items() if name in ("road", *TEXT_SECTIONS)]
    stops = [label.start for label in labels if label.kind == "section" and label.field == "stop"]
    if "parties" in sections:
        start = sections["parties"][1]
    else:
        limit = min(later, default=len(text))
        markers = find_markers(text, 0, limit)
        if not markers:
            return []
        start = markers[0][1]
    end = min([pos for pos in later + stops if pos > start], default=len(text))
    return block_parties(reader, start, end, index)


def _value_span(text: str, label: Label, index: LabelIndex) -> tuple[int, int]:
    """The value after a document label: to the end of its cell, line or clause."""
    start = label.vstart
    while start < len(text) and text[start] in MARKERS:
        start += 1
    limit = index.next_start(start, len(text))
    stops = MARKERS if label.field in ("document_no", "issuer") else VALUE_STOPS
    end = start
    while end < limit and text[end] not in stops:
        end += 1
    while end > start and text[end - 1] in "，,。；;":
        end -= 1
    return start, end


def _doc_fields(
    out: _Output,
    reader: Reader,
    labels: list[Label],
    index: LabelIndex,
    skip: list[tuple[int, int]],
) -> None:
    text = reader.text
    for label in labels:
        if label.kind != "doc" or any(s <= label.start < e for s, e in skip):
            continue
        field = label.field
        if out.values.get(field) is not None:
            continue
        start, end = _value_span(text, label, index)
        value = text[start:end]
        if not value or value in ("/", "无"):
            continue
        if field == "accident_time":
            found = find_datetime(text, start, end)
            if found is None:
                out.warn("accident_time", f"unreadable accident time {value!r}")
                continue
            date, time, s, e = found
            out.set("accident_date", date.isoformat(), [(s, e)])
            if time is None:
                out.warn("accident_time", "the accident time gives no time of day")
                continue
            iso = f"{date.isoformat()}T{time.hour:02d}:{time.minute:02d}:00+08:00"
            out.set("accident_time", iso, [(s, e)])
        elif field == "issue_date":
            found_date = DATE_RE.search(text, start, end)
            date = parse_date(found_date.group()) if found_date else None
            if date is None:
                out.warn("issue_date", f"unreadable date {value!r}")
                continue
            out.set("issue_date", date.isoformat(), [found_date.span()])
        elif field == "issuer":
            seal = SEAL_RE.search(value)
            if seal:
                end = start + seal.start()
            out.set("issuer", text[start:end], [(start, end)])
        elif field == "document_no":
            out.set("document_no", value, [(start, end)])
            year = YEAR_RE.search(value)
            if year:
                out.set(
                    "year",
                    int(year.group("year")),
                    [(start + year.start("year"), start + year.end("year"))],
                )
        elif field == "weather" and len(value) > 8:
            out.warn("weather", f"unexpected weather {value!r}")
            out.set("weather", value, [(start, end)])
        else:
            out.set(field, value, [(start, end)])


def _document_no(
    out: _Output, layout: Layout, head_end: int, sections: dict[str, tuple[Label, int, int]]
) -> None:
    """The number printed under the title (吕公交认字〔2023〕第00123号), when not labelled."""
    if out.values["document_no"] is not None:
        return
    text = layout.text
    # Never from the narrative: facts and analysis cite other numbered documents.
    body = min(
        (s[0].start for name, s in sections.items() if name in TEXT_SECTIONS), default=len(text)
    )
    match = DOCNO_RE.search(text, 0, max(head_end, 0) or body) or DOCNO_RE.search(text, 0, body)
    if match is not None:
        start = match.start()
        cut = text.rfind("认定书", start, match.end())
        if cut >= 0:  # a title run into the number on one line
            start = cut + 3
        out.set("document_no", text[start : match.end()], [(start, match.end())])
        out.set("year", int(match.group("year")), [match.span("year")])
        return
    for row in layout.rows:
        if row.start >= head_end:
            break
        chunk = text[row.start : row.end]
        if BARE_DOCNO_RE.fullmatch(chunk):
            out.set("document_no", chunk, [(row.start, row.end)])
            return


def _procedure(
    out: _Output, text: str, head_end: int, sections: dict[str, tuple[Label, int, int]]
) -> None:
    """simple or general: from the title, else from what only one of the two forms has."""
    head = max(head_end, 0) or len(text)
    for word, value in (("简易程序", "simple"), ("一般程序", "general")):
        pos = text.find(word, 0, head)
        if pos >= 0:
            out.set("procedure", value, [(pos, pos + len(word))])
            return
    docno = out.values["document_no"] or ""
    if "简" in docno:
        out.set("procedure", "simple", out.spans["document_no"])
    elif "cause" in sections:
        # The general-procedure letter (处理程序规定 art. 64) carries the evidence and cause
        # analysis and a 认字 number; the simple form (art. 24) has neither.
        label = sections["cause"][0]
        out.set("procedure", "general", [(label.start, label.end)])
    elif "认字" in docno:
        out.set("procedure", "general", out.spans["document_no"])


def _issuer(out: _Output, layout: Layout, head_end: int) -> None:
    """The police unit: a line above the title, else the name stamped with the seal."""
    if out.values["issuer"] is not None:
        return
    text = layout.text
    for row in layout.rows:
        if row.start >= head_end:
            break
        for cell in row.cells:
            if ORG_RE.fullmatch(text, cell.start, cell.end):
                out.set("issuer", text[cell.start : cell.end], [(cell.start, cell.end)])
                return
    for row in reversed(layout.rows):
        seal = SEAL_RE.search(text, row.start, row.end)
        if seal is None:
            continue
        for cell in row.cells:
            if cell.start <= seal.start() <= cell.end:
                match = ORG_RE.fullmatch(text, cell.start, seal.start())
                if match:
                    out.set("issuer", match.group(), [match.span()])
                    return


def _issue_date(out: _Output, layout: Layout, sections: dict[str, tuple[Label, int, int]]) -> None:
    """The date under the signature: the last date standing alone after the last heading."""
    if out.values["issue_date"] is not None:
        return
    text = layout.text
    after = max((s[0].start for s in sections.values()), default=0)
    tail = [row for row in layout.rows if row.start >= after]
    for row in reversed(tail):
        for cell in reversed(row.cells):
            if _is_date_row(text, cell.start, cell.end):
                chunk = "".join(ch for ch in text[cell.start : cell.end] if ch not in MARKERS)
                date = parse_date(chunk)
                out.set("issue_date", date.isoformat(), [(cell.start, cell.end)])
                return
    # Otherwise a date on a short signature line: "交通警察：王五 2023年5月20日（印章）".
    for row in reversed(tail):
        if row.end - row.start <= 48:
            found = find_date(text, row.start, row.end)
            if found is not None:
                out.set("issue_date", found[0].isoformat(), [found[1:]])
                return


def _liabilities(
    out: _Output, text: str, drafts: list[Draft], sections: dict[str, tuple[Label, int, int]]
) -> None:
    """Each party's grade from the liability section (or, without one, the facts)."""
    for name in ("liability", "facts", "cause"):
        if name in sections:
            _, start, end = sections[name]
            given = read_liability(text, start, end, drafts)
            if given or name == "liability":
                break
    else:
        return
    for n, grade, span in given:
        draft = drafts[n]
        current = draft.values.get("liability")
        if current is not None and current != grade:
            draft.warn("liability", f"liability given both as {current!r} and {grade!r}")
            continue
        draft.set("liability", grade, [span])
    unknown = unmatched_liability_phrases(text, start, end)
    accident = ACCIDENT_RE.search(text, start, end)
    for draft in drafts:
        if draft.values.get("liability") is not None:
            continue
        if accident:
            draft.warn("liability", "the report names an accident cause (意外), no liability grade")
        elif unknown:
            draft.warn("liability", f"liability phrase not understood: {unknown[0]!r}")
        else:
            draft.warn("liability", "no liability grade found for this party")
