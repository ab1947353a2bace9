"""The parties of a letter: the sentence grammar of party paragraphs, the boxes of form tables,
and the liability sentence that names each party's share of fault.

Readers here find where a value is written and return it with its span; `letters.finish_party`
validates it. Nothing is guessed: a value is taken only from the place the grammar expects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import values
from .pages import Cell, Table
from .spans import Span

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
EXTRA_FIELDS = (
    "age",
    "birth_date",
    "address",
    "owner",
    "license_class",
    "commercial_policy_no",
    "ctpi_uninsured",
)

LABEL_CHARS = "甲乙丙丁戊己庚辛"
CJK = "\u4e00-\u9fff"
PLATE = (
    rf"[{values.PROVINCES}][A-Za-z][{re.escape(values.PLATE_SEPARATORS)}]?[A-Za-z0-9]{{4,6}}"
    r"[挂学警港澳领试超]?"
)
UNKNOWN_RE = re.compile(r"身份不明|身份不详|不详|不明|未知|逃逸|未查获")
# The start of a party paragraph: an optional list number, then a label (甲方：), 当事人 with
# or without a label, or a role (肇事车辆驾驶人：).
LEAD_RE = re.compile(
    r"^(?:\d{1,2}[.．、]|[（(][一二三四五六七八九十\d]{1,2}[)）]|[一二三四五六七八九十]{1,2}、)?"
    r"(?:"
    rf"当事人(?P<label1>[{LABEL_CHARS}]方?)?[：:，,]?"
    rf"|(?P<label2>[{LABEL_CHARS}]方?)[：:]"
    rf"|(?P<role>[{CJK}]{{0,6}}(?:驾驶人|驾驶员|司机|肇事者|肇事人|行人|乘车人|乘客|骑车人))[：:]"
    r")"
)
BARE_LEAD_RE = re.compile(rf"^(?P<name>[{CJK}]{{2,4}})[，,](?:男|女)[，,]")
NAME_RE = re.compile(rf"(?P<name>[{CJK}][{CJK}·•]{{1,9}})(?=[（(，,：:。；;]|$)")
ROLE_IN_BRACKETS_RE = re.compile(r"[（(](?P<role>[^）)]{1,12})[)）]")
GENDER_RE = re.compile(r"[，,（(]?(?:性别[：:]?)?(?P<g>男|女)(?=[，,。；;（()）]|$)")
BIRTH_RE = re.compile(
    r"(?P<d>(?:\d{4}|[〇零一二三四五六七八九]{4})年[0-9〇零一二三四五六七八九十]{1,3}月"
    r"[0-9〇零一二三四五六七八九十]{1,3}日)出生"
)
AGE_RE = re.compile(r"[，,](?P<a>\d{1,3})(?:周岁|岁)")
ID_RE = re.compile(
    r"(?:居民身份证|公民身份|身份证|身份证件)(?:号码|号)?[：:为是]?"
    r"(?P<v>\d{17}[0-9Xx]|\d{15})(?![0-9Xx])"
)
ADDRESS_RE = re.compile(
    r"[，,](?:现住址?|住址|住所地?|户籍地|家住|住)[：:为在]?(?P<v>[^，,。；;]{2,60})"
)
PHONE_RE = re.compile(
    r"(?:联系)?(?:电话|手机)(?:号码)?[：:为]?(?P<v>1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)"
)
LICENSE_RE = re.compile(
    r"持有?(?P<c>[A-DMNP][1-3]?(?:[、/]?[A-DMNP][1-3]?)*)(?:类|准驾车型的?)?(?:机动车)?驾驶证"
    r"(?:[（(]?(?:证号|档案编号)[：:]?(?P<no>[0-9A-Z]{6,20})[)）]?)?"
)
LICENSE_NO_RE = re.compile(r"驾驶证号(?:码)?[：:]?(?P<no>[0-9A-Z]{6,20})")
# Drive verbs; 驾驶证/驾驶人 are nouns.
MODE_RE = re.compile(r"(?P<verb>驾驶(?![证人员室座位])|驾乘|骑行|骑乘|骑(?![车手])|乘坐|搭乘|步行)")
VEHICLE_RE = re.compile(rf"[{CJK}]{{2,14}}?(?=牵引[{values.PROVINCES}]|搭载|载|[（(，,。；;]|$)")
VEHICLE_END_RE = re.compile(r"(?:车|机|摩托|拖拉机)$")
COLOUR_RE = re.compile(rf"(?:一辆|一台|该)?(?:[{CJK}]{{1,3}}色)?")
OWNER_RE = re.compile(r"(?:所有人|车主)(?:为|是|系)?[：:]?(?P<o>[^）)，,。；;]{2,40})")
INSURER = r"[^，,。；;：:（()）]{2,60}?(?:公司|营业部|服务部|中心)"
INSURE_RE = re.compile(
    rf"(?:在|于|向)(?P<ins>该公司|同一公司|{INSURER})(?:处)?"
    r"(?:投保了?|购买了?|承保了?|参保了?|投有)(?P<what>[^，,。；;（(]{0,40})"
)
INSURER_CELL_RE = re.compile(r"[^，,。；;：:（()）]{2,60}(?:公司|营业部|服务部)")
UNINSURED_RE = re.compile(
    r"未(?:按规定)?(?:投保|参加|购买)(?:了)?(?:机动车)?(?:交通事故责任)?(?:强制保险|交强险)"
)
LABELLED_INSURER_RE = re.compile(
    r"(?P<kind>交强险|强制保险|商业三者险|商业险|商业第三者责任保险|第三者责任保险)"
    rf"(?:承保公司|保险公司|承保单位|承保人)[：:为]?(?P<ins>{INSURER}(?=[，,。；;（(]|$))"
)
LABELLED_POLICY_RE = re.compile(r"(?:保单号|保险单号)(?:码)?[：:为]?(?P<no>[0-9A-Z\-]{6,40})")
ALSO_COMMERCIAL_RE = re.compile(
    r"[）)](?:和|及|以及|并|并投保了?|同时投保了?)(?:商业第?三者(?:责任)?(?:保险|险)|商业险)"
)
CTPI_WORDS_RE = re.compile(r"交强险|强制保险|强制险|交通事故责任强制")
COMMERCIAL_WORDS_RE = re.compile(r"商业|第三者|三者")
POLICY_RE = re.compile(r"[（(]?(?:保单号|保险单号|保单号码)[：:]?(?P<no>[0-9A-Z\-]{6,40})[)）]?")
LIMIT_RE = re.compile(
    r"(?:保险金额|赔偿限额|责任限额|保额|限额)(?:为|是)?[：:]?"
    r"(?P<v>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:万元|万|元)|[零〇壹贰叁肆伍陆柒捌玖拾佰仟一二两三四五六七八九十百千]+万元)"
)


@dataclass
class Draft:
    """One party as read, before validation: raw values and the spans they came from."""

    values: dict[str, object] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    unknown: bool = False  # 身份不明 / 逃逸: identity fields stay null
    refs: list[str] = field(default_factory=list)  # how the liability sentence may name it
    conflicts: set[str] = field(default_factory=set)

    def set(self, name: str, value: object, span: Span | None) -> None:
        """Record a value; a second, different reading marks the field as conflicting."""
        if value is None:
            return
        if name in self.values and self.values[name] != value:
            self.conflicts.add(name)
            return
        self.values[name] = value
        if span is not None:
            self.spans[name] = span


def label_of(text: str) -> str | None:
    """甲 / 甲方 → 甲方."""
    if text and text[0] in LABEL_CHARS and text in (text[0], text[0] + "方"):
        return text[0] + "方"
    return None


# -- party paragraphs ---------------------------------------------------------------------


def is_party_lead(text: str) -> bool:
    """The paragraph starts like a party paragraph."""
    match = LEAD_RE.match(text)
    if match and (match.group("label1") or match.group("label2") or match.group("role")):
        return True
    if match:
        return bool(NAME_RE.match(text[match.end() :]))
    return bool(BARE_LEAD_RE.match(text))


def is_labelled_lead(text: str) -> bool:
    """The line starts with an unmistakable party lead: `甲方：`, `当事人：`, `1.当事人`."""
    match = LEAD_RE.match(text)
    if not match:
        return False
    lead = match.group(0)
    return bool(match.group("label2") or lead[-1] in "：:" or lead[:1].isdigit())


def read_paragraph(span: Span) -> Draft:
    """The fields a party paragraph states, by the grammar officers write it in."""
    draft = Draft()
    text = span.text
    pos = 0
    match = LEAD_RE.match(text)
    role = None
    if match:
        label_text = match.group("label1") or match.group("label2")
        if label_text:
            draft.set(
                "label",
                label_of(label_text),
                span.match_span(match, "label1" if match.group("label1") else "label2"),
            )
        role = match.group("role")
        pos = match.end()
    name_match = NAME_RE.match(text, pos)
    if name_match:
        name = name_match.group("name")
        if UNKNOWN_RE.search(name) or name.endswith(("驾驶人", "驾驶员")):
            draft.unknown = True
        elif len(name) <= 6:
            draft.set("name", name, span.match_span(name_match, "name"))
        pos = name_match.end()
    elif BARE_LEAD_RE.match(text):
        bare = BARE_LEAD_RE.match(text)
        draft.set("name", bare.group("name"), span.match_span(bare, "name"))
        pos = bare.end("name")
    if role:
        draft.refs.append(role)
        if UNKNOWN_RE.search(text[pos : pos + 12]):
            draft.unknown = True
    bracket = ROLE_IN_BRACKETS_RE.match(text, pos)
    if bracket:
        pos = bracket.end()
    gender = GENDER_RE.match(text, pos)
    if gender:
        draft.set("gender", gender.group("g"), span.match_span(gender, "g"))
    _personal(draft, span)
    _mode(draft, span)
    _insurance(draft, span)
    return draft


def _personal(draft: Draft, span: Span) -> None:
    text = span.text
    for regex, name in ((ID_RE, "id_number"), (PHONE_RE, "phone"), (ADDRESS_RE, "address")):
        found = regex.search(text)
        if found:
            draft.set(name, found.group("v"), span.match_span(found, "v"))
    birth = BIRTH_RE.search(text)
    if birth:
        draft.set("birth_date", birth.group("d"), span.match_span(birth, "d"))
    age = AGE_RE.search(text)
    if age:
        draft.set("age", int(age.group("a")), span.match_span(age, "a"))
    licence = LICENSE_RE.search(text)
    if licence:
        draft.set("license_class", licence.group("c"), span.match_span(licence, "c"))
        if licence.group("no"):
            draft.set("license_no", licence.group("no"), span.match_span(licence, "no"))
    number = LICENSE_NO_RE.search(text)
    if number:
        draft.set("license_no", number.group("no"), span.match_span(number, "no"))


def _mode(draft: Draft, span: Span) -> None:
    text = span.text
    found = MODE_RE.search(text)
    if not found:
        return
    verb = found.group("verb")
    if verb == "步行":
        draft.set("traffic_mode", "步行", span.match_span(found))
        return
    rest_at = found.end()
    if verb in ("乘坐", "搭乘"):
        draft.set("traffic_mode", "乘坐", span.match_span(found))
        return
    read_vehicle(draft, span[rest_at:], span.match_span(found))


def read_vehicle(draft: Draft, span: Span, verb: Span | None) -> None:
    """`晋J·A3N62号小型普通客车`, `无号牌电动自行车`, `一辆银灰色小型轿车（号牌不详）`."""
    text = span.text
    lead = re.match(r"(?:(?:车牌|号牌)(?:号码?)?为?)", text)
    pos = lead.end() if lead else 0
    plate = re.compile(PLATE + r"号?的?").match(text, pos)
    if plate:
        raw = plate.group(0).rstrip("号的")
        draft.set("plate", raw, span[pos : pos + len(raw)])
        pos = plate.end()
    else:
        no_plate = re.match(r"(?:无号牌|无牌照?|未悬挂号牌|未上牌照?)(?:的)?", text)
        if no_plate:
            pos = no_plate.end()
    colour = COLOUR_RE.match(text, pos)
    if colour:
        pos = colour.end()
    vehicle = VEHICLE_RE.match(text, pos)
    if vehicle and VEHICLE_END_RE.search(vehicle.group(0)):
        kind = vehicle.group(0)
        draft.set("vehicle_type", kind, span.match_span(vehicle))
        mode_span = Span.join([verb, span.match_span(vehicle)]) if verb is not None else None
        draft.set("traffic_mode", "驾驶" + kind, mode_span)


def _insurance(draft: Draft, span: Span) -> None:
    text = span.text
    uninsured = UNINSURED_RE.search(text)
    if uninsured:
        draft.set("ctpi_uninsured", True, span.match_span(uninsured))
    last_insurer: Span | None = None
    for found in INSURE_RE.finditer(text):
        insurer = span.match_span(found, "ins")
        if insurer.text in ("该公司", "同一公司"):
            if last_insurer is None:
                continue
            insurer = last_insurer
        else:
            last_insurer = insurer
        what = found.group("what")
        tail = text[found.end() : found.end() + 80]
        ctpi = bool(CTPI_WORDS_RE.search(what))
        commercial = bool(COMMERCIAL_WORDS_RE.search(what))
        if ctpi:
            draft.set("ctpi_insurer", insurer.text, insurer)
            policy = POLICY_RE.match(text, found.end())
            if policy:
                draft.set("ctpi_policy_no", policy.group("no"), span.match_span(policy, "no"))
        if commercial:
            draft.set("commercial_insurer", insurer.text, insurer)
            limit = LIMIT_RE.search(text, found.end(), found.end() + 80)
            if limit and not INSURE_RE.search(tail[: limit.start() - found.end()]):
                draft.set("commercial_limit", limit.group("v"), span.match_span(limit, "v"))
    # Label style: `交强险承保公司：…，保单号：…，商业三者险承保公司：…，保险金额：150万`.
    for found in LABELLED_INSURER_RE.finditer(text):
        insurer = span.match_span(found, "ins")
        if CTPI_WORDS_RE.search(found.group("kind")):
            draft.set("ctpi_insurer", insurer.text, insurer)
            policy = LABELLED_POLICY_RE.search(text, found.end(), found.end() + 60)
            if policy:
                draft.set("ctpi_policy_no", policy.group("no"), span.match_span(policy, "no"))
        else:
            draft.set("commercial_insurer", insurer.text, insurer)
            limit = LIMIT_RE.search(text, found.end(), found.end() + 60)
            if limit:
                draft.set("commercial_limit", limit.group("v"), span.match_span(limit, "v"))
    # A commercial cover added to the 交强险 sentence: `…（保单号：…）和商业第三者责任保险`.
    for found in ALSO_COMMERCIAL_RE.finditer(text):
        if last_insurer is not None and "commercial_insurer" not in draft.values:
            draft.set("commercial_insurer", last_insurer.text, last_insurer)
            limit = LIMIT_RE.search(text, found.end(), found.end() + 60)
            if limit:
                draft.set("commercial_limit", limit.group("v"), span.match_span(limit, "v"))
    owner = OWNER_RE.search(text)
    if owner:
        draft.set("owner", owner.group("o"), span.match_span(owner, "o"))


# -- tables -------------------------------------------------------------------------------

# Box labels of party tables (whitespace removed) and the field each one names.
PARTY_LABELS = {
    "当事人": "party",
    "当事人姓名": "name",
    "姓名": "name",
    "性别": "gender",
    "年龄": "age",
    "居民身份证号码": "id_number",
    "公民身份号码": "id_number",
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "驾驶证或身份证号码": "id_number",
    "驾驶证或身份证号": "id_number",
    "证件号码": "id_number",
    "联系电话": "phone",
    "电话": "phone",
    "联系方式": "phone",
    "住址": "address",
    "现住址": "address",
    "交通方式": "traffic_mode",
    "号牌号码": "plate",
    "号牌": "plate",
    "车牌号码": "plate",
    "车辆号牌": "plate",
    "机动车型号、号牌": "vehicle",
    "机动车型号号牌": "vehicle",
    "机动车型、牌号": "vehicle",
    "机动车型号、牌号": "vehicle",
    "车辆类型、号牌": "vehicle",
    "车型、号牌": "vehicle",
    "车型、牌号": "vehicle",
    "车辆类型": "vehicle_type",
    "车型": "vehicle_type",
    "驾驶证号": "license_no",
    "驾驶证号码": "license_no",
    "准驾车型": "license_class",
    "车辆所有人": "owner",
    "所有人": "owner",
    "保险公司": "ctpi_insurer",
    "交强险承保公司": "ctpi_insurer",
    "交强险保险公司": "ctpi_insurer",
    "承保公司": "ctpi_insurer",
    "保险凭证号": "ctpi_policy_no",
    "保单号": "ctpi_policy_no",
    "交强险保单号": "ctpi_policy_no",
    "商业三者险": "commercial",
    "商业险": "commercial",
    "商业第三者责任保险": "commercial",
    "商业险承保公司": "commercial_insurer",
    "商业三者险承保公司": "commercial_insurer",
    "商业三者险限额": "commercial_limit",
    "商业险限额": "commercial_limit",
    "责任": "liability",
    "事故责任": "liability",
    "责任认定": "liability",
}


def cell_key(cell: Cell | None) -> str:
    """A cell's text as a label key (colons dropped)."""
    return cell.text.strip("：:") if cell is not None else ""


def is_value_empty(text: str) -> bool:
    """`/`, `无`, `—` and the like: a box left empty on purpose."""
    return text.strip("：:。") in values.NULL_VALUES


def table_parties(table: Table, doc_labels: dict[str, str]) -> list[Draft]:
    """The parties a form table states, whatever its layout: one row per party under a header
    row, one column per party beside a label column, or blocks of label/value boxes per party."""
    rows = table.rows
    for n, row in enumerate(rows):
        cells = [c for c in row if c is not None]
        keys = [cell_key(c) for c in cells]
        labels = [k for k in keys if k in PARTY_LABELS]
        if len(cells) >= 3 and len(labels) >= 3 and len(labels) >= len(cells) - 1:
            if all(label_of(k) for k in keys[1:] if k):
                break
            return _row_per_party(rows[n], rows[n + 1 :], doc_labels)
        party_columns = [c for c in cells[1:] if label_of(cell_key(c))]
        if len(party_columns) >= 2 and len(party_columns) == len(cells) - 1:
            return _column_per_party(party_columns, rows[n + 1 :], doc_labels)
    return _blocks(rows, doc_labels)


def _overlap(a: Cell, b: Cell) -> float:
    return min(a.x1, b.x1) - max(a.x0, b.x0)


def _row_per_party(header: list, rows: list, doc_labels: dict[str, str]) -> list[Draft]:
    columns = [
        (c, PARTY_LABELS[cell_key(c)])
        for c in header
        if c is not None and cell_key(c) in PARTY_LABELS
    ]
    drafts = []
    for row in rows:
        cells = [c for c in row if c is not None]
        if not cells or cell_key(cells[0]) in doc_labels:
            break
        draft = Draft()
        for cell in cells:
            best = max(columns, key=lambda col: _overlap(cell, col[0]))
            if _overlap(cell, best[0]) <= 0:
                continue
            name = best[1]
            if name == "party":
                name = "label" if any(f == "name" for _, f in columns) else "party"
            put_value(draft, name, cell_span(cell))
        if draft.values or draft.unknown:
            drafts.append(draft)
    return drafts


def _column_per_party(
    party_cells: list[Cell], rows: list, doc_labels: dict[str, str]
) -> list[Draft]:
    drafts = []
    for cell in party_cells:
        draft = Draft()
        draft.set("label", label_of(cell_key(cell)), cell_span(cell))
        drafts.append(draft)
    for row in rows:
        cells = [c for c in row if c is not None]
        if not cells:
            continue
        key = cell_key(cells[0])
        if key in doc_labels:
            break
        name = PARTY_LABELS.get(key)
        if name is None:
            continue
        for cell in cells[1:]:
            best = max(range(len(party_cells)), key=lambda i: _overlap(cell, party_cells[i]))
            if _overlap(cell, party_cells[best]) > 0:
                put_value(drafts[best], name, cell_span(cell))
    return drafts


def _blocks(rows: list, doc_labels: dict[str, str]) -> list[Draft]:
    drafts: list[Draft] = []
    current: Draft | None = None
    for row in rows:
        cells = [c for c in row if c is not None]
        index = 0
        if cells and label_of(cell_key(cells[0])) and row[0] is cells[0]:
            current = Draft()
            drafts.append(current)
            current.set("label", label_of(cell_key(cells[0])), cell_span(cells[0]))
            index = 1
        while index < len(cells):
            key = cell_key(cells[index])
            name = PARTY_LABELS.get(key)
            if name is None or key in doc_labels:
                index += 1
                continue
            value = cells[index + 1] if index + 1 < len(cells) else None
            if value is not None and cell_key(value) in PARTY_LABELS:
                value = None
            starts_party = name in ("party",) or (
                name == "name" and current is not None and "name" in current.values
            )
            if current is None or starts_party and ("name" in current.values or current.unknown):
                current = Draft()
                drafts.append(current)
            if value is not None:
                put_value(current, name, cell_span(value))
                index += 2
            else:
                index += 1
    return [d for d in drafts if d.values or d.unknown]


def cell_span(cell: Cell) -> Span:
    """The cell's text with its glyphs, lines joined."""
    return Span.of_lines(cell.lines)


def put_value(draft: Draft, name: str, span: Span) -> None:
    """A box's value for a party field, split where one box holds two fields."""
    span = span.strip()
    text = span.text
    if not text or is_value_empty(text):
        if name == "ctpi_insurer" and text and "未投保" in text:
            draft.set("ctpi_uninsured", True, span)
        return
    if name in ("party", "label"):
        label = re.match(rf"^[{LABEL_CHARS}]方?", text)
        if label and label_of(label.group(0)):
            draft.set("label", label_of(label.group(0)), span[: label.end()])
            rest = span[label.end() :].strip()
            if rest and name == "party":
                put_value(draft, "name", rest)
        elif name == "party":
            put_value(draft, "name", span)
        return
    if name == "name":
        if UNKNOWN_RE.search(text):
            draft.unknown = True
        elif re.fullmatch(rf"[{CJK}][{CJK}·•]{{1,9}}", text):
            draft.set("name", text, span)
        return
    if name == "traffic_mode":
        found = MODE_RE.match(text)
        if found and found.group("verb") == "步行":
            draft.set("traffic_mode", "步行", span)
        elif found and found.group("verb") in ("乘坐", "搭乘"):
            draft.set("traffic_mode", "乘坐", span[: found.end()])
        elif found and found.end() == len(text):
            draft.set("traffic_mode", "驾驶", span)
        elif found:
            read_vehicle(draft, span[found.end() :], span[: found.end()])
        return
    if name == "vehicle":
        plate = re.compile(PLATE).search(text)
        if plate:
            draft.set("plate", plate.group(0), span.match_span(plate))
            kind = span[: plate.start()].strip()
        else:
            kind = span
        if kind and VEHICLE_END_RE.search(kind.text):
            draft.set("vehicle_type", kind.text, kind)
        return
    if name == "plate":
        plate = re.compile(PLATE).fullmatch(text.rstrip("号"))
        if plate:
            draft.set("plate", plate.group(0), span[: plate.end()])
        return
    if name == "commercial":
        if re.search(r"未投保|无", text[:4]):
            return
        limit = LIMIT_RE.search(text) or re.search(r"(?P<v>\d+(?:\.\d+)?万元)", text)
        insurer = INSURER_CELL_RE.match(text)
        if insurer:
            draft.set("commercial_insurer", insurer.group(0), span.match_span(insurer))
        if limit:
            draft.set("commercial_limit", limit.group("v"), span.match_span(limit, "v"))
        return
    if name == "commercial_limit":
        found = re.search(
            r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:万元|万|元)?|[零〇壹贰叁肆伍陆柒捌玖拾佰仟一二两三四五六七八九十百千]+万元",
            text,
        )
        if found:
            draft.set("commercial_limit", found.group(0), span.match_span(found))
        return
    if name == "age":
        found = re.fullmatch(r"(\d{1,3})(?:周岁|岁)?", text)
        if found:
            draft.set("age", int(found.group(1)), span)
        return
    if name == "liability":
        grade = values.bare_grade(text)
        if grade:
            draft.set("liability", grade, span)
        return
    if name == "gender":
        if text in ("男", "女"):
            draft.set("gender", text, span)
        return
    draft.set(name, text, span)


# -- liability ----------------------------------------------------------------------------

SUBJECT_SEP_RE = re.compile(r"[、和与及]")
CLAUSE_SEP_RE = re.compile(r"[，,：:]")
SEGMENT_SEP_RE = re.compile(r"[；;。]")
CLAUSE_PREFIX_RE = re.compile(r"(?:经)?(?:认定|确认|因此|故|综上|所以|由)?(?:当事人)?")


def read_liability(span: Span, parties: list[Draft]) -> dict[int, list[tuple[str, Span]]]:
    """Each party's grades named in the liability text (party index → [(grade, span)]).

    A grade belongs to the parties that are the subject of its clause: those named at the start
    of the clause or of the clause group it closes (`A、B承担此事故的同等责任`,
    `甲方负主要责任，乙方负次要责任`, `A违反…之规定，负事故全部责任；B无责任`). A party named
    inside someone else's clause (`未让乙方先行`) is not given that clause's grade.
    """
    refs = _references(parties)
    found: dict[int, list[tuple[str, Span]]] = {}
    text = span.text
    for segment in _split(text, SEGMENT_SEP_RE, 0, len(text)):
        subjects: list[int] = []
        for start, end in _split(text, CLAUSE_SEP_RE, *segment):
            prefix = CLAUSE_PREFIX_RE.match(text, start, end)
            named = _leading_subjects(text, prefix.end() if prefix else start, end, refs)
            if named:
                subjects = named
            for grade in values.GRADE_RE.finditer(text, start, end):
                for index in subjects:
                    found.setdefault(index, []).append(
                        (values.grade_of(grade), span.match_span(grade))
                    )
    return found


def _split(text: str, regex: re.Pattern, start: int, end: int) -> list[tuple[int, int]]:
    parts = []
    pos = start
    for sep in regex.finditer(text, start, end):
        if sep.start() > pos:
            parts.append((pos, sep.start()))
        pos = sep.end()
    if end > pos:
        parts.append((pos, end))
    return parts


def _references(parties: list[Draft]) -> list[tuple[str, int]]:
    refs: list[tuple[str, int]] = []
    for index, draft in enumerate(parties):
        names = list(draft.refs)
        if isinstance(draft.values.get("name"), str):
            names.append(draft.values["name"])
        label = draft.values.get("label")
        if isinstance(label, str):
            names += [label, label[0]]
        if draft.unknown:
            names += ["肇事车辆驾驶人", "肇事驾驶人", "肇事者", "肇事车辆驾驶员", "肇事司机"]
        refs += [(name, index) for name in names if name]
    if len(parties) == 2:
        refs.append(("双方", -1))
    if len(parties) >= 2:
        refs.append(("各方", -1))
    return sorted(refs, key=lambda ref: len(ref[0]), reverse=True)


def _leading_subjects(text: str, pos: int, end: int, refs: list[tuple[str, int]]) -> list[int]:
    """The parties named at text[pos:], joined by 、和与及 (empty when none leads)."""
    subjects: list[int] = []
    while pos < end:
        for name, index in refs:
            if text.startswith(name, pos) and pos + len(name) <= end:
                if index == -1:
                    subjects = list(range(len({i for _, i in refs if i >= 0})))
                else:
                    subjects.append(index)
                pos += len(name)
                break
        else:
            break
        sep = SUBJECT_SEP_RE.match(text, pos)
        if not sep:
            break
        pos = sep.end()
    return subjects
