"""Parties: who was involved, their papers, vehicle, insurance and liability.

Three shapes are read: label/value text (a key-value table or prose paragraphs, one block per
party, split at the party markers 甲方/当事人乙…), a table with one row per party under a header
row (simple-procedure forms), and a table with one column per party (项目 | 甲方 | 乙方 …).
"""

from __future__ import annotations

import re

from .dates import find_date
from .labels import LOOKUP, Label, LabelIndex, header_field
from .text import MARKERS
from .values import (
    GRADE_RE,
    ID_RE,
    NULL_VALUES,
    PHONE_RE,
    PLATE_RE,
    POLICY_RE,
    bare_grade,
    format_money,
    grade_of,
    is_plate,
    is_valid_id,
    normalize_plate,
    parse_money,
)

PARTY_CHARS = "甲乙丙丁戊己庚辛"
MARK_RE = re.compile(
    r"当事人[（(]?(?P<a>[甲乙丙丁戊己庚辛])方?[)）]?|(?P<b>[甲乙丙丁戊己庚辛])方(?:当事人)?"
    r"|(?P<c>[甲乙丙丁戊己庚辛])(?=[:：])"
)
CELL_REF_RE = re.compile(r"(?:当事人)?[（(]?(?P<c>[甲乙丙丁戊己庚辛])方?[)）]?(?:当事人)?")
FIELDS = (
    "label",
    "name",
    "gender",
    "id_number",
    "phone",
    "license_no",
    "traffic_mode",
    "plate",
    "vehicle_type",
    "ctpi_insurer",
    "ctpi_policy_no",
    "commercial_insurer",
    "commercial_limit",
    "liability",
)
EXTRA_FIELDS = ("age", "birth_date", "address", "owner", "license_class", "commercial_policy_no")

TRIM = frozenset(MARKERS + "：:，,。；;、 ")
CLAUSE_SEPS = frozenset(MARKERS + "，,；;。（(）)")
NAME_RE = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff·•]{1,11}")
ORG_SUFFIXES = ("公司", "集团", "厂", "站", "中心", "医院", "学校", "局", "队", "社", "所", "部")
AGE_RE = re.compile(r"(\d{1,3})周?岁?")
BIRTH_RE = re.compile(r"(?:出生于)?(.+?)(?:出生|生)")
ADDRESS_RE = re.compile(r"(?:户籍地|现住址?|家住|住所地?|住址?)(?:为|在|于)?(?P<a>.+)")
PLACE_HINT_RE = re.compile(r"[省市县区镇乡村街路号巷组]")
LICENSE_CLASS_RE = re.compile(
    r"持有?(?P<c>[A-DMNP][1-3]?(?:[A-DMNP][1-3]?)*)(?:准驾车型的?)?(?:机动车)?驾驶证"
)
MODE_RE = re.compile(r"(?P<verb>驾驶|驾乘|骑行|骑乘|骑|乘坐|推行)(?P<rest>.+)")
OWNER_RE = re.compile(
    r"(?:该车|此车|车辆|机动车|该机动车)?(?:的)?(?:登记)?(?:所有人|车主)(?:为|是|系)(?P<o>.+)"
)
INSURE_RE = re.compile(
    r"(?:该车|此车|车辆|该机动车)?(?:已|均)?(?:在|于|向)(?P<ins>.+?(?:公司|营业部|服务部))"
    r"(?:处)?(?:投保了?|购买了?|承保了?|参保了?|投有)(?P<kinds>.*)"
)
AND_RE = re.compile(r"(?:和|及|以及|并|并投保了?|并购买了?|同时投保了?)(?P<kinds>.*(?:保险|险))")
CTPI_WORDS_RE = re.compile(r"交强险|强制保险|强制险|交通事故责任强制")
COMMERCIAL_WORDS_RE = re.compile(r"商业|第三者|三者")
NO_PLATE_RE = re.compile(r"^(?:无号牌|无牌照?|无号|未悬挂号牌的?|未上牌的?)")
DRIVE_VERBS = ("驾驶", "驾乘", "骑行", "骑乘", "骑", "推行")
SENTENCE_RE = re.compile(r"[^。；;\n]+")
CLAUSE_RE = re.compile(r"[^，,]+")


class Draft:
    """One party being read: values with their stream spans, and doubts."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.strong: set[str] = set()
        self.warnings: list[tuple[str, str]] = []
        self.context: str | None = None  # the insurance last named: "ctpi" or "commercial"
        self.insurer: tuple[str, tuple[int, int]] | None = None

    def set(
        self, field: str, value: object, spans: list[tuple[int, int]], *, weak: bool = False
    ) -> None:
        """Keep the first value found; a labelled value replaces one read from context."""
        if value is None or value == "":
            return
        if field in self.values and (weak or field in self.strong):
            return
        self.values[field] = value
        self.spans[field] = spans
        if not weak:
            self.strong.add(field)

    def warn(self, field: str, message: str) -> None:
        """Note a doubt about `field` of this party."""
        self.warnings.append((field, message))


class Reader:
    """Reads field values out of stream spans."""

    def __init__(self, text: str) -> None:
        self.text = text

    # --- spans ---------------------------------------------------------------------------

    def trim(self, start: int, end: int) -> tuple[int, int]:
        """The span without layout markers and punctuation at either end."""
        text = self.text
        while start < end and text[start] in TRIM:
            start += 1
        while end > start and text[end - 1] in TRIM:
            end -= 1
        return start, end

    def compact(self, start: int, end: int) -> tuple[str, list[int]]:
        """The span without layout markers, and the stream position of each character."""
        positions = [i for i in range(start, end) if self.text[i] not in MARKERS]
        return "".join(self.text[i] for i in positions), positions

    @staticmethod
    def back(positions: list[int], start: int, end: int) -> tuple[int, int]:
        """The stream span of compact characters [start, end)."""
        return positions[start], positions[end - 1] + 1

    # --- labelled values -----------------------------------------------------------------

    def read(self, draft: Draft, field: str, start: int, end: int, *, weak: bool = False) -> None:
        """Read the value of `field` written in text[start:end] into the draft."""
        start, end = self.trim(start, end)
        value, positions = self.compact(start, end)
        if value in NULL_VALUES or not value:
            return
        spans = [(start, end)]
        if field == "name":
            note = value.find("（") if "（" in value else value.find("(")
            if note >= 2:  # "张三（驾驶人）": the note is not part of the name
                value = value[:note]
                spans = [self.back(positions, 0, note)]
            if not (NAME_RE.fullmatch(value) or value.endswith(ORG_SUFFIXES)):
                draft.warn("name", "the name does not look like a person's or a company's name")
            draft.set("name", value, spans, weak=weak)
        elif field == "gender":
            if value in ("男", "女", "男性", "女性"):
                draft.set("gender", value[0], spans, weak=weak)
            else:
                draft.warn("gender", f"unreadable sex {value!r}")
        elif field == "age":
            match = AGE_RE.fullmatch(value)
            if match:
                draft.set("age", int(match.group(1)), spans, weak=weak)
            else:
                draft.warn("age", f"unreadable age {value!r}")
        elif field == "birth_date":
            found = find_date(value)
            if found:
                draft.set("birth_date", found[0].isoformat(), [self.back(positions, *found[1:])])
        elif field == "id_number":
            self.read_id(draft, value, positions, weak=weak)
        elif field == "phone":
            match = PHONE_RE.search(value)
            if match:
                draft.set("phone", match.group(), [self.back(positions, *match.span())], weak=weak)
            else:
                draft.warn("phone", f"unreadable phone number {value!r}")
        elif field == "license_no":
            match = POLICY_RE.search(value)
            if match:
                number = match.group().upper()
                draft.set("license_no", number, [self.back(positions, *match.span())], weak=weak)
        elif field == "license_class":
            draft.set("license_class", value.upper(), spans, weak=weak)
        elif field == "traffic_mode":
            self.read_mode(draft, start, end, weak=weak)
        elif field == "plate":
            self.read_plate(draft, value, positions, weak=weak)
        elif field == "vehicle_type":
            draft.set("vehicle_type", value, spans, weak=weak)
        elif field == "vehicle_plate":
            self.read_vehicle_plate(draft, value, positions)
        elif field in ("owner", "address"):
            draft.set(field, value, spans, weak=weak)
        elif field in ("ctpi_insurer", "commercial_insurer", "insurer"):
            self.read_insurer(draft, field, value, spans, weak=weak)
        elif field in ("ctpi_policy_no", "policy_no", "commercial_policy_no"):
            self.read_policy(draft, field, value, positions)
        elif field in ("commercial_limit", "limit"):
            self.read_limit(draft, field, value, positions)
        elif field == "liability":
            grade = bare_grade(value)
            if grade is None:
                match = GRADE_RE.search(value)
                grade = grade_of(match) if match else None
            if grade is None:
                draft.warn("liability", f"liability phrase {value!r} not understood")
            else:
                draft.set("liability", grade, spans, weak=weak)

    def read_id(self, draft: Draft, value: str, positions: list[int], *, weak: bool) -> None:
        """An ID number, warned about when its check digit or length is wrong."""
        match = ID_RE.search(value)
        if match is None:
            draft.warn("id_number", f"unreadable ID number {value!r}")
            return
        number = match.group().upper()
        draft.set("id_number", number, [self.back(positions, *match.span())], weak=weak)
        if draft.values.get("id_number") != number:
            return
        if len(number) == 15:
            draft.warn("id_number", "15-digit ID number (old format), no check digit")
        elif not is_valid_id(number):
            draft.warn("id_number", "ID number check digit does not match (GB 11643)")

    def read_plate(self, draft: Draft, value: str, positions: list[int], *, weak: bool) -> None:
        """A number plate, normalised, warned about when it breaks the pattern."""
        if NO_PLATE_RE.match(value):
            return
        match = PLATE_RE.search(value)
        if match:
            plate = normalize_plate(match.group())
            spans = [self.back(positions, *match.span())]
        else:
            plate = normalize_plate(value)
            spans = [self.back(positions, 0, len(value))]
        draft.set("plate", plate, spans, weak=weak)
        if draft.values.get("plate") == plate and not is_plate(plate):
            draft.warn("plate", f"{plate!r} does not look like a number plate")

    def read_vehicle_plate(self, draft: Draft, value: str, positions: list[int]) -> None:
        """A cell holding both vehicle type and plate ('小型轿车 晋J12345')."""
        match = PLATE_RE.search(value)
        rest_start, rest_end = 0, len(value)
        if match:
            self.read_plate(
                draft, match.group(), positions[match.start() : match.end()], weak=False
            )
            if match.start() > 0:
                rest_end = match.start()
            else:
                rest_start = match.end()
        rest = value[rest_start:rest_end]
        lead = len(rest) - len(rest.lstrip("号/、,，"))
        rest = rest.strip("号/、,，")
        if rest and rest not in NULL_VALUES:
            begin = rest_start + lead
            draft.set("vehicle_type", rest, [self.back(positions, begin, begin + len(rest))])

    def read_mode(self, draft: Draft, start: int, end: int, *, weak: bool) -> None:
        """'驾驶晋J12345号小型轿车', '驾驶电动自行车', '步行', or just '驾驶'."""
        value, positions = self.compact(start, end)
        if not value:
            return
        match = MODE_RE.fullmatch(value)
        if match is None:
            draft.set("traffic_mode", value, [(start, end)], weak=weak)
            return
        verb_span = self.back(positions, 0, match.end("verb"))
        rest, offset = match.group("rest"), match.start("rest")
        plate = PLATE_RE.search(rest)
        if plate:
            self.read_plate(
                draft,
                plate.group(),
                positions[offset + plate.start() : offset + plate.end()],
                weak=weak,
            )
            cut = plate.end()
            if rest[cut : cut + 1] == "号":
                cut += 1
            offset, rest = offset + cut, rest[cut:]
        else:
            bare = NO_PLATE_RE.match(rest)
            if bare:
                offset, rest = offset + bare.end(), rest[bare.end() :]
        if not rest:
            draft.set("traffic_mode", match.group("verb"), [verb_span], weak=weak)
            return
        type_span = self.back(positions, offset, offset + len(rest))
        draft.set("traffic_mode", match.group("verb") + rest, [verb_span, type_span], weak=weak)
        if match.group("verb") in DRIVE_VERBS:
            draft.set("vehicle_type", rest, [type_span], weak=True)

    def read_insurer(
        self, draft: Draft, field: str, value: str, spans: list[tuple[int, int]], *, weak: bool
    ) -> None:
        """An insurer; it also sets which policy a following number or amount is for."""
        if field == "commercial_insurer" and value[:1].isdigit():
            # "商业三者险：100万元" names the cover, not the insurer.
            draft.context = "commercial"
            start, end = spans[0]
            self.read_limit(draft, "commercial_limit", *self.compact(start, end))
            return
        if field == "insurer":
            draft.warn("ctpi_insurer", "insurer not stated as the 交强险 insurer")
            field = "ctpi_insurer"
        draft.set(field, value, spans, weak=weak)
        draft.context = "ctpi" if field == "ctpi_insurer" else "commercial"
        draft.insurer = (value, spans[0])

    def read_policy(self, draft: Draft, field: str, value: str, positions: list[int]) -> None:
        """A policy number, for the 交强险 or the commercial policy named last."""
        match = POLICY_RE.search(value)
        if match is None:
            return
        if field == "policy_no":
            field = "commercial_policy_no" if draft.context == "commercial" else "ctpi_policy_no"
        draft.set(field, match.group().upper(), [self.back(positions, *match.span())])

    def read_limit(self, draft: Draft, field: str, value: str, positions: list[int]) -> None:
        """The commercial third-party cover in yuan, two decimals."""
        if field == "limit" and draft.context != "commercial":
            return  # an amount of cover not tied to the commercial policy
        found = parse_money(value)
        if found is None:
            draft.warn("commercial_limit", f"unreadable amount {value!r}")
            return
        amount, start, end = found
        draft.set("commercial_limit", format_money(amount), [self.back(positions, start, end)])

    # --- prose clauses -------------------------------------------------------------------

    def clause(self, draft: Draft, start: int, end: int, *, first: bool) -> None:
        """Classify an unlabelled clause of a party paragraph ('男', '住…', '驾驶…')."""
        start, end = self.trim(start, end)
        if start >= end:
            return
        value = self.text[start:end]
        if any(marker in value for marker in MARKERS):
            value, positions = self.compact(start, end)
        else:
            positions = list(range(start, end))
        spans = [(start, end)]
        if first and (NAME_RE.fullmatch(value) or value.endswith(ORG_SUFFIXES)):
            draft.set("name", value, spans)
        elif value in ("男", "女", "男性", "女性"):
            draft.set("gender", value[0], spans)
        elif (match := AGE_RE.fullmatch(value)) and value.endswith("岁"):
            draft.set("age", int(match.group(1)), spans)
        elif (match := BIRTH_RE.fullmatch(value)) and (found := find_date(match.group(1))):
            draft.set("birth_date", found[0].isoformat(), [self.back(positions, *found[1:])])
        elif (match := ADDRESS_RE.fullmatch(value)) and PLACE_HINT_RE.search(match.group("a")):
            draft.set("address", match.group("a"), [self.back(positions, *match.span("a"))])
        elif ID_RE.fullmatch(value):
            self.read_id(draft, value, positions, weak=False)
        elif PHONE_RE.fullmatch(value):
            draft.set("phone", value, spans)
        elif match := LICENSE_CLASS_RE.search(value):
            draft.set("license_class", match.group("c"), [self.back(positions, *match.span("c"))])
        elif value.startswith(("步行", "行走")):
            draft.set("traffic_mode", "步行", [self.back(positions, 0, 2)])
        elif MODE_RE.fullmatch(value):
            self.read_mode(draft, start, end, weak=False)
        elif match := OWNER_RE.fullmatch(value):
            draft.set("owner", match.group("o"), [self.back(positions, *match.span("o"))])
        elif match := INSURE_RE.fullmatch(value):
            span = self.back(positions, *match.span("ins"))
            self.insured(draft, match.group("ins"), span, match.group("kinds"))
        elif (match := AND_RE.fullmatch(value)) and draft.insurer:
            self.insured(draft, draft.insurer[0], draft.insurer[1], match.group("kinds"))

    def insured(self, draft: Draft, insurer: str, span: tuple[int, int], kinds: str) -> None:
        """Record an insurer for the kinds of cover named ('交强险和商业三者险')."""
        draft.insurer = (insurer, span)
        if CTPI_WORDS_RE.search(kinds):
            draft.set("ctpi_insurer", insurer, [span])
            draft.context = "ctpi"
        if COMMERCIAL_WORDS_RE.search(kinds):
            draft.set("commercial_insurer", insurer, [span])
            draft.context = "commercial"

    # --- a block of label/value text for one party ---------------------------------------

    def block(self, draft: Draft, start: int, end: int, labels: list[Label]) -> None:
        """Read a party's paragraph or key-value cells: labelled values and plain clauses."""
        text = self.text
        at = {label.start: label for label in labels if label.kind == "party"}
        pos = start
        first = True
        while pos < end:
            if text[pos] in CLAUSE_SEPS:
                pos += 1
                continue
            label = at.get(pos)
            if label is not None:
                vstart = label.vstart
                while vstart < end and text[vstart] in MARKERS:
                    vstart += 1
                vend = vstart
                while vend < end and text[vend] not in CLAUSE_SEPS and vend not in at:
                    vend += 1
                self.read(draft, label.field, vstart, vend)
                pos = max(vend, label.end)
                first = False
                continue
            cend = pos
            while cend < end and text[cend] not in CLAUSE_SEPS and (cend == pos or cend not in at):
                cend += 1
            self.clause(draft, pos, cend, first=first)
            first = False
            pos = cend


# --- finding the parties ---------------------------------------------------------------------


def cell_ref(text: str) -> str | None:
    """The party letter when a table cell holds only a party label ('甲', '乙方', '当事人丙')."""
    match = CELL_REF_RE.fullmatch(text.strip("：: " + MARKERS))
    return match.group("c") if match else None


def find_markers(text: str, start: int, end: int) -> list[tuple[str, int, int, int]]:
    """Party markers (letter, start, end, value start) that open a party's block."""
    found = []
    for match in MARK_RE.finditer(text, start, end):
        s, e = match.span()
        if s and text[s - 1] not in "\t\n。；;":
            continue
        nxt = text[e] if e < len(text) else "\n"
        if nxt in "：:":
            vstart = e + 1
        elif nxt in MARKERS or "\u4e00" <= nxt <= "\u9fff" or nxt in "，,":
            vstart = e
        else:
            continue
        found.append((match.group("a") or match.group("b") or match.group("c"), s, e, vstart))
    return found


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of [a0, a1] and [b0, b1] (negative when apart)."""
    return min(a1, b1) - max(a0, b0)


def column_table(layout: object, reader: Reader) -> tuple[list[Draft], int, int] | None:
    """A header row of party fields with one row per party below it (simple-procedure form)."""
    text = reader.text
    rows = layout.rows
    for r, row in enumerate(rows):
        if len(row.cells) < 3:
            continue
        fields = [header_field(text[c.start : c.end]) for c in row.cells]
        named = {f for f in fields if f}
        # A header row is (nearly) all labels; a key-value row alternates labels and values.
        if (
            len(named) < 3
            or not named & {"name", "id_number"}
            or sum(1 for f in fields if f) < 0.6 * len(fields)
        ):
            continue
        drafts = []
        end = row.end
        # Some forms put the names in the 当事人 column instead of 甲/乙.
        names_first = text[row.cells[0].start : row.cells[0].end] in ("当事人", "当事人姓名")
        for data_row in rows[r + 1 :]:
            if data_row.ruled != row.ruled:
                break
            first = data_row.cells[0]
            letter = cell_ref(text[first.start : first.end])
            if len(data_row.cells) < 3 or (letter is None and not names_first):
                break
            draft = Draft()
            cells = data_row.cells
            if letter is not None:
                draft.set("label", letter + "方", [reader.trim(first.start, first.end)])
                cells = cells[1:]
            else:
                start, stop = reader.trim(first.start, first.end)
                if not NAME_RE.fullmatch(text[start:stop]) or text[start:stop] in LOOKUP:
                    break
            for cell in cells:
                best = max(
                    range(len(row.cells)),
                    key=lambda k, c=cell: overlap(c.x0, c.x1, row.cells[k].x0, row.cells[k].x1),
                )
                head = row.cells[best]
                field = fields[best] or ("name" if best == 0 and names_first else None)
                if overlap(cell.x0, cell.x1, head.x0, head.x1) <= 0 or field is None:
                    continue
                reader.read(draft, field, cell.start, cell.end)
            drafts.append(draft)
            end = data_row.end
        if drafts:
            return drafts, row.start, end
    return None


def column_per_party_table(layout: object, reader: Reader) -> tuple[list[Draft], int, int] | None:
    """A header row of party labels (项目 | 甲方 | 乙方 …) with one row per field below it."""
    text = reader.text
    rows = layout.rows
    for r, row in enumerate(rows):
        letters = [cell_ref(text[c.start : c.end]) for c in row.cells]
        columns = [(c, letter) for c, letter in zip(row.cells, letters, strict=True) if letter]
        if len(columns) < 2 or len(columns) < len(row.cells) - 1:
            continue
        drafts = []
        for cell, letter in columns:
            draft = Draft()
            draft.set("label", letter + "方", [reader.trim(cell.start, cell.end)])
            drafts.append(draft)
        end = row.end
        for data_row in rows[r + 1 :]:
            cells = data_row.cells
            if len(cells) < 2:
                break
            aligned = [
                max(
                    range(len(columns)),
                    key=lambda k, c=c: overlap(c.x0, c.x1, columns[k][0].x0, columns[k][0].x1),
                )
                for c in cells[1:]
            ]
            if any(
                overlap(c.x0, c.x1, columns[k][0].x0, columns[k][0].x1) <= 0
                for c, k in zip(cells[1:], aligned, strict=True)
            ):
                break
            field = header_field(text[cells[0].start : cells[0].end])
            end = data_row.end
            if field is None:
                continue  # a row we don't read (准驾车型, 伤情…)
            for cell, k in zip(cells[1:], aligned, strict=True):
                reader.read(drafts[k], field, cell.start, cell.end)
        return drafts, row.start, end
    return None


def block_parties(reader: Reader, start: int, end: int, index: LabelIndex) -> list[Draft]:
    """Parties written as blocks opened by markers (甲方：…, 当事人乙：…), in text[start:end]."""
    markers = find_markers(reader.text, start, end)
    drafts = []
    for n, (letter, m_start, m_end, vstart) in enumerate(markers):
        stop = markers[n + 1][1] if n + 1 < len(markers) else end
        draft = Draft()
        draft.set("label", letter + "方", [(m_start, m_end)])
        reader.block(draft, vstart, stop, index.within(vstart, stop))
        drafts.append(draft)
    return drafts


def finish(draft: Draft) -> None:
    """Compose what the parts say together: '驾驶' + '小型轿车' → '驾驶小型轿车'."""
    mode = draft.values.get("traffic_mode")
    vehicle = draft.values.get("vehicle_type")
    if mode in DRIVE_VERBS and vehicle:
        draft.values["traffic_mode"] = f"{mode}{vehicle}"
        draft.spans["traffic_mode"] = draft.spans["traffic_mode"] + draft.spans["vehicle_type"]
    if mode == "步行":
        for field in ("plate", "vehicle_type"):
            draft.values.pop(field, None)


# --- liability -------------------------------------------------------------------------------


def read_liability(
    text: str, start: int, end: int, drafts: list[Draft]
) -> list[tuple[int, str, tuple[int, int]]]:
    """(party index, grade, span) for each grade the text gives a party, in order.

    A grade goes to the parties named in its clause ("张三负主要责任，李四负次要责任"), or
    when the clause names none, to those named last in the same sentence ("张三……，是事故的
    主要原因，应负主要责任").
    """
    names = []
    labels = []
    for n, draft in enumerate(drafts):
        name = draft.values.get("name")
        if isinstance(name, str) and len(name) >= 2:
            names.append((re.escape(name), n))
        label = draft.values.get("label")
        if isinstance(label, str) and label[0] in PARTY_CHARS:
            c = label[0]
            labels.append((f"当事人[（(]?{c}方?[)）]?|{c}方|{c}(?=[、，,和与及负承无不应对])", n))
    if not names and not labels:
        return []
    # Longer names first, so that 李明华 is never read as 李明.
    refs = sorted(names, key=lambda ref: -len(ref[0])) + labels
    ref_re = re.compile("|".join(f"(?P<r{k}>{pattern})" for k, (pattern, _) in enumerate(refs)))
    results: list[tuple[int, str, tuple[int, int]]] = []
    for sentence in SENTENCE_RE.finditer(text, start, end):
        last: list[int] = []
        for clause in CLAUSE_RE.finditer(text, sentence.start(), sentence.end()):
            c_start, c_end = clause.span()
            named = [refs[int(m.lastgroup[1:])][1] for m in ref_re.finditer(text, c_start, c_end)]
            if named:
                last = list(dict.fromkeys(named))
            for grade in GRADE_RE.finditer(text, c_start, c_end):
                for n in last:
                    results.append((n, grade_of(grade), grade.span()))
    return results


def unmatched_liability_phrases(text: str, start: int, end: int) -> list[str]:
    """Phrases that assign liability but with no grade we know ('负事故责任')."""
    found = []
    for match in re.finditer(r"(?:负|承担)[^，,。；;]{0,8}责任", text[start:end]):
        if not GRADE_RE.search(match.group()) and "不" not in match.group():
            found.append(match.group())
    return found
