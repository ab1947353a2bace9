"""The structure of the letter: its header, sections by their headings (一般程序 and 证明) or the
boxes of its form (简易程序), and the output of INTERFACES.md §2 with provenance and warnings.

The 2017 templates of the Ministry of Public Security (《道路交通事故处理程序规定》文书式样) fix the
order: unit, title, number; 交通事故时间 and 地点; 当事人、车辆、道路和交通环境等基本情况 (one
paragraph or box block per party, then the road); 道路交通事故发生经过; …证据及事故形成原因分析;
当事人导致交通事故的过错及责任或者意外原因 (absent from a 证明); 交通警察; the date under the seal;
the notice to the parties. Producers vary the wording and the layout, not this order.
"""

from __future__ import annotations

import re

from . import fields as F
from . import values
from .errors import ReportError
from .fields import Reading
from .flow import PAGE_NUMBER_RE, Block, Paragraph, blocks
from .pages import Page, Table
from .parties import (
    EXTRA_FIELDS,
    FIELDS,
    Draft,
    cell_key,
    cell_span,
    is_labelled_lead,
    is_party_lead,
    is_value_empty,
    read_liability,
    read_paragraph,
    table_parties,
)
from .spans import Span

# An optional heading number: 一、 / 1. / （一）.
NUM = (
    r"(?:[一二三四五六七八九十]{1,3}[、.．]|\d{1,2}[、.．]"
    r"|[（(][一二三四五六七八九十\d]{1,2}[)）])?"
)
HEADINGS = {
    "time": re.compile(rf"^{NUM}(?:交通)?事故(?:发生)?时间[：:]?|^发生时间[：:]?"),
    "place": re.compile(rf"^{NUM}(?:交通)?事故(?:发生)?地点[：:]?|^发生地点[：:]?"),
    "basic": re.compile(rf"^{NUM}[^：:]{{0,24}}基本情况[：:]?"),
    "facts": re.compile(
        rf"^{NUM}(?:道路)?(?:交通)?事故(?:发生)?(?:经过|事实)[：:]|^{NUM}基本事实[：:]"
    ),
    "cause": re.compile(
        rf"^{NUM}(?:道路)?(?:交通)?事故证据(?:及事故形成原因分析)?[：:]"
        rf"|^{NUM}(?:事故)?形成原因(?:分析)?[：:]|^{NUM}事故原因(?:分析)?[：:]"
    ),
    "liability": re.compile(
        rf"^{NUM}当事人导致(?:交通)?事故的过错及责任或者意外原因[：:]?"
        rf"|^{NUM}(?:事故)?责任(?:认定|划分)[：:]"
    ),
    "police": re.compile(r"^交通警察[：:]?"),
    "notice": re.compile(
        r"^(?:注[：:])?(?:当事人对(?:道路)?交通事故认定有异议|对(?:道路)?交通事故损害赔偿有争议"
        r"|当事人对[^，,]{0,12}(?:不服|有异议))"
    ),
    "road": re.compile(r"^道路情况[：:]"),
}
SECTION_ORDER = ("facts", "cause", "liability")
TITLE_RE = re.compile(r"道路交通事故(?:认定书|证明)|事故认定书|交通事故证明")
ISSUER_RE = re.compile(
    r"^[\u4e00-\u9fff（）()]{2,40}?(?:公安局|公安分局|公安处|公安厅|交通警察|交警|交巡警)"
    r"[\u4e00-\u9fff（）()]{0,30}?(?:大队|支队|中队|总队|分局|交警队|警察队)$"
)
DOCNO_RE = re.compile(
    r"^(?:(?:认定书)?编号|No\.?|NO\.?|№)?[：:]?"
    r"(?:(?P<w>第[0-9A-Za-z\-]{4,40}号)"
    r"|(?P<x>[\u4e00-\u9fff]{1,12}[〔［\[【(（]\d{4}[〕］\]】)）]第?[0-9A-Za-z\-]{1,20}号)"
    r"|(?P<y>[0-9A-Za-z\-]{8,40}))$"
)
BRACKETS = {"〔": "〕", "［": "］", "[": "]", "【": "】", "(": ")", "（": "）"}
YEAR_RE = re.compile(r"[〔［\[【(（](\d{4})[〕］\]】)）]")
# The separator inside a plate written in running text (晋J·A3N62): the output writes plates
# without it everywhere (INTERFACES.md §2), in the facts as in the plate fields.
PLATE_DOT_RE = re.compile(
    rf"[{values.PROVINCES}][A-Z](?P<dot>[{re.escape(values.PLATE_SEPARATORS)}])[A-Z0-9]{{4,6}}"
)
SEAL_RE = re.compile(r"[（(](?:印章|盖章|公章|专用章|章)[）)]")
WEATHER_IN_TEXT_RE = re.compile(rf"天气(?:状况|情况)?(?:为|是)?[：:]?(?P<w>{F.WEATHER_RE.pattern})")
# Form boxes (简易程序) that hold document fields; label text → field.
DOC_LABELS = {
    "交通事故时间": "time",
    "事故时间": "time",
    "发生时间": "time",
    "天气": "weather",
    "交通事故地点": "place",
    "事故地点": "place",
    "发生地点": "place",
    "交通事故事实": "facts",
    "交通事故事实及责任": "facts",
    "事故事实及责任": "facts",
    "事故事实": "facts",
    "交通事故经过": "facts",
    "当事人责任": "liability",
    "事故责任": "liability_doc",
    "损害赔偿调解结果": "mediation",
    "调解结果": "mediation",
    "交通警察": "police",
    "日期": "date",
    "当事人签名": "signatures",
    "认定书编号": "document_no",
    "事故形态": "accident_form",
    "道路情况": "road",
}
MIN_TEXT = 12  # fewer readable characters than this: nothing to read
DOC_FIELDS = (
    "document_no",
    "issuer",
    "procedure",
    "accident_time",
    "accident_date",
    "location",
    "weather",
    "issue_date",
    "year",
    "accident_form",
    "facts",
    "cause",
    "liability_text",
    "mediation_result",
)


def is_heading(text: str) -> bool:
    """A line that starts a section or a field of the letter."""
    return any(regex.match(text) for regex in HEADINGS.values())


def read_letter(pages: list[Page], source: str) -> dict:
    """The fields of one letter (INTERFACES.md §2) from its pages."""
    visible = sum(len(line.text) for page in pages for line in page.lines) + sum(
        len(cell.text)
        for page in pages
        for t in page.tables
        for row in t.rows
        for cell in row
        if cell
    )
    if visible < MIN_TEXT:
        raise ReportError("no_text_layer", "the pages hold no readable text")
    reading = Reading(source)
    for page in pages:
        text = [line for line in page.lines if not PAGE_NUMBER_RE.fullmatch(line.text)]
        if page.image_count and not text and not page.tables:
            reading.warn(
                "pages",
                "image_page",
                f"第{page.number}页是没有文字层的图片，其内容未读取，请对照原件",
            )
    letter = _Letter(blocks(pages, is_heading, is_labelled_lead), reading)
    return letter.read()


class _Letter:
    def __init__(self, flow: list[Block], reading: Reading) -> None:
        self.flow = flow
        self.reading = reading
        self.out: dict = {}
        self.paragraphs = [b for b in flow if isinstance(b, Paragraph)]
        self.tables = [b for b in flow if isinstance(b, Table)]
        self.boxes: dict[str, list[Span]] = {}  # form boxes by DOC_LABELS field

    def set(self, path: str, value: object, span: Span | None) -> None:
        self.out[path] = self.reading.accept(path, value, span)

    # -- the whole letter -------------------------------------------------------------

    def read(self) -> dict:
        for name in (
            "document_no",
            "issuer",
            "procedure",
            "accident_time",
            "accident_date",
            "year",
        ):
            self.out[name] = None
        self._form_boxes()
        head_end = self._header()
        sections = self._sections(head_end)
        if self.out["procedure"] is None and not self._looks_like_a_letter(sections):
            raise ReportError("not_a_report", "no accident letter wording found")
        self._time_place(sections)
        drafts = self._parties(sections)
        self._texts(sections)
        self._issue_date(sections)
        self._weather(sections)
        self._liability(drafts, sections)
        parties = [self._finish(n, draft) for n, draft in enumerate(drafts)]
        self._check_parties(parties)
        out = {name: self.out.get(name) for name in DOC_FIELDS}
        out["parties"] = parties
        out["source"] = self.reading.source
        if self.reading.source == "ocr":
            out["confidence"] = self.reading.confidence
        out["provenance"] = {
            path: where
            for path, where in self.reading.provenance.items()
            if _value_at(out, path) is not None
        }
        out["warnings"] = self.reading.warnings
        return out

    def _looks_like_a_letter(self, sections: dict) -> bool:
        found = {
            name for name in ("time", "place", "facts", "liability", "basic") if name in sections
        }
        found |= {name for name in ("time", "place", "facts", "liability") if name in self.boxes}
        return len(found) >= 3

    # -- form boxes -----------------------------------------------------------------------

    def _form_boxes(self) -> None:
        for table in self.tables:
            for row in table.rows:
                cells = [c for c in row if c is not None]
                for index, cell in enumerate(cells):
                    name = DOC_LABELS.get(cell_key(cell))
                    if name is None:
                        continue
                    rest = [c for c in cells[index + 1 :] if cell_key(c) not in DOC_LABELS]
                    if name in ("police", "date", "signatures"):
                        self.boxes.setdefault(name, []).extend(cell_span(c) for c in rest)
                        continue
                    nxt = cells[index + 1] if index + 1 < len(cells) else None
                    if nxt is not None and cell_key(nxt) not in DOC_LABELS:
                        self.boxes.setdefault(name, []).append(cell_span(nxt))

    # -- header -----------------------------------------------------------------------

    def _header(self) -> int:
        """Unit, title and number from the lines above the first field; returns where they end."""
        end = len(self.flow)
        for n, block in enumerate(self.flow):
            if isinstance(block, Table) or is_heading(block.text):
                end = n
                break
        lines = [Span.of_lines([line]) for block in self.flow[:end] for line in block.lines]
        title_at = None
        for n, line in enumerate(lines):
            if TITLE_RE.search(line.text):
                title_at = n
                self._procedure(line.text, line)
                break
        if title_at is None:
            return end
        for line in lines[:title_at]:
            if ISSUER_RE.match(SEAL_RE.sub("", line.text)):
                self.set("issuer", SEAL_RE.sub("", line.text), line)
        for line in lines[title_at + 1 :]:
            self._document_no(line)
        title = lines[title_at]
        rest = TITLE_RE.search(title.text)
        if self.out.get("document_no") is None and rest:
            self._document_no(title[rest.end() :].strip("（）()简易程序"))
        if self.out.get("document_no") is None and "document_no" in self.boxes:
            self._document_no(self.boxes["document_no"][0])
        return end

    def _procedure(self, text: str, span: Span) -> None:
        if "证明" in text:
            procedure = "certificate"
        elif "简易程序" in text:
            procedure = "simple"
        else:
            procedure = "general"
        self.out["procedure"] = procedure
        self.reading.provenance["procedure"] = span.provenance() or {}

    def _document_no(self, span: Span) -> None:
        span = span.strip()
        found = DOCNO_RE.match(span.text)
        if not found or self.out.get("document_no"):
            return
        group = next(g for g in ("w", "x", "y") if found.group(g))
        number = found.group(group)
        year = YEAR_RE.search(number)
        if (
            year
            and self.reading.source == "ocr"
            and BRACKETS.get(year.group(0)[0]) != year.group(0)[-1]
        ):
            # OCR confuses the year's brackets; a 文号 writes the year in 〔〕 (GB/T 9704 §7.2.4).
            if not {year.group(0)[0], year.group(0)[-1]} & {"〔", "〕"}:
                self.reading.warn("document_no", "ocr_unsure", "文号的括号识别不清，请对照原件填写")
                return
            number = number.replace(year.group(0), f"〔{year.group(1)}〕")
        self.set("document_no", number, span.match_span(found, group))
        year = YEAR_RE.search(found.group(group))
        if year:
            self.out["year"] = int(year.group(1))
            self.reading.provenance["year"] = self.reading.provenance["document_no"]

    # -- sections ---------------------------------------------------------------------

    def _sections(self, start: int) -> dict[str, list[Block]]:
        """Blocks under each heading; a heading's own line may carry the start of its body."""
        sections: dict[str, list[Block]] = {}
        current: str | None = None
        for block in self.flow[start:]:
            if isinstance(block, Paragraph):
                name = next((k for k, rx in HEADINGS.items() if rx.match(block.text)), None)
                if name is not None and name not in sections:
                    current = name
                    sections[current] = [block]
                    continue
                if name == "notice":
                    current = "notice"
            if current is not None:
                sections[current].append(block)
            else:
                sections.setdefault("before", []).append(block)
        return sections

    def _body(self, sections: dict, name: str) -> Span | None:
        """A section's text without its heading, whitespace already gone."""
        found = sections.get(name)
        if not found:
            return None
        head = found[0]
        match = HEADINGS[name].match(head.text)
        spans = [head.span[match.end() :]]
        for block in found[1:]:
            if isinstance(block, Paragraph):
                spans.append(block.span)
        body = Span.join(spans).strip("：: ")
        return body or None

    # -- document fields --------------------------------------------------------------

    def _time_place(self, sections: dict) -> None:
        time_span = self._body(sections, "time") or _first(self.boxes.get("time"))
        if time_span is not None:
            weather_at = time_span.text.find("天气")
            if weather_at > 0:
                time_span = time_span[:weather_at]
            found = F.read_datetime(self.reading, "accident_time", time_span)
            if found is not None:
                day, time = found
                self.out["accident_date"] = day.isoformat()
                self.reading.provenance["accident_date"] = self.reading.provenance["accident_time"]
                self.out["accident_time"] = F.iso_time(day, time)
                if time is None:
                    self.reading.warn("accident_time", "no_time", "只写了日期，没有时刻")
        place = self._body(sections, "place") or _first(self.boxes.get("place"))
        if place is not None:
            weather_at = place.text.find("天气")
            if weather_at > 0:
                place = place[:weather_at]
            place = place.strip("：:，,。 ")
            if place and not F.is_label(place.text):
                self.set("location", place.text, place)
        self.out.setdefault("location", None)

    def _texts(self, sections: dict) -> None:
        for name, box in (("facts", "facts"), ("cause", None), ("liability_text", "liability")):
            if name == "liability_text" and self.out["procedure"] == "certificate":
                self.out[name] = None
                continue
            section = "liability" if name == "liability_text" else name
            span = self._body(sections, section) or (_first(self.boxes.get(box)) if box else None)
            if span is not None:
                span = span.without(PLATE_DOT_RE, "dot")
            self.set(name, span.text if span else None, span)
        mediation = _first(self.boxes.get("mediation"))
        if mediation is not None:
            self.set("mediation_result", mediation.text, mediation)
        form = _first(self.boxes.get("accident_form"))
        if form is not None and not is_value_empty(form.text):
            self.set("accident_form", form.text, form)

    def _tail_lines(self, sections: dict) -> list[Span]:
        """Lines at the foot of the letter: under 交通警察 (free text, or the blocks after the form
        that holds its box) and any line with a seal mark, before the notice."""
        blocks_after: list[Block] = list(sections.get("police", []))
        police_tables = [
            n
            for n, block in enumerate(self.flow)
            if isinstance(block, Table)
            and any(cell_key(c) == "交通警察" for row in block.rows for c in row if c)
        ]
        if police_tables:
            blocks_after += self.flow[police_tables[-1] + 1 :]
        blocks_after += [b for b in self.paragraphs if SEAL_RE.search(b.text)]
        lines = []
        for block in blocks_after:
            if isinstance(block, Paragraph):
                if HEADINGS["notice"].match(block.text):
                    break
                lines += [Span.of_lines([line]) for line in block.lines]
        return lines

    def _issue_date(self, sections: dict) -> None:
        """The date under the seal: after 交通警察 (or in its box), before the notice; and the
        unit's name when it is printed on the seal line rather than at the top."""
        tail = self._tail_lines(sections)
        if self.out.get("issuer") is None:
            for line in tail:
                name = F.DATE_RE.sub("", SEAL_RE.sub("", line.text))
                if SEAL_RE.search(line.text) and ISSUER_RE.match(name):
                    self.set("issuer", name, line[: line.text.find(name) + len(name)])
                    break
        candidates = self.boxes.get("police", []) + self.boxes.get("date", []) + tail
        for span in candidates:
            found = F.DATE_RE.search(span.text)
            if found:
                day = F.read_date(self.reading, "issue_date", span.match_span(found))
                self.out["issue_date"] = day.isoformat() if day else None
                return
        self.out["issue_date"] = None

    def _weather(self, sections: dict) -> None:
        spans = []
        for name in ("before", "time", "place", "basic", "road"):
            for block in sections.get(name, []):
                if isinstance(block, Paragraph):
                    span = block.span
                    for found in WEATHER_IN_TEXT_RE.finditer(span.text):
                        spans.append(span.match_span(found, "w"))
        for box in self.boxes.get("weather", []):
            box = box.strip()
            if F.WEATHER_RE.fullmatch(box.text):
                spans.append(box)
        self.out["weather"] = F.read_weather(self.reading, "weather", spans)

    # -- parties ----------------------------------------------------------------------

    def _parties(self, sections: dict) -> list[Draft]:
        drafts: list[Draft] = []
        for table in self.tables:
            drafts += table_parties(table, DOC_LABELS)
        if drafts:
            return drafts
        # Party paragraphs sit under the basic-facts heading; letters without it put them
        # anywhere before the facts.
        for name in ("before", "time", "place", "basic", "road"):
            for block in sections.get(name, [])[1:] if name != "before" else sections.get(name, []):
                if isinstance(block, Paragraph) and is_party_lead(block.text):
                    drafts.append(read_paragraph(block.span))
        basic = sections.get("basic")
        if basic and not drafts:
            # The heading's own paragraph may hold the first party (`…基本情况：当事人…`).
            body = self._body(sections, "basic")
            if body is not None and is_party_lead(body.text):
                drafts.append(read_paragraph(body))
        return drafts

    def _liability(self, drafts: list[Draft], sections: dict) -> None:
        if self.out["procedure"] == "certificate":
            return
        spans = []
        body = self._body(sections, "liability")
        if body is not None:
            spans.append(body)
        spans += self.boxes.get("liability", [])
        if not spans and self.out["procedure"] == "simple" and self.out.get("facts"):
            facts = self._body(sections, "facts") or _first(self.boxes.get("facts"))
            if facts is not None:
                spans.append(facts)
        for span in spans:
            for index, grades in read_liability(span, drafts).items():
                for grade, where in grades:
                    drafts[index].set("liability", grade, where)

    def _finish(self, n: int, draft: Draft) -> dict:
        reading = self.reading
        path = f"parties[{n}]"
        party: dict = dict.fromkeys(FIELDS + EXTRA_FIELDS)
        spans = draft.spans
        for name in draft.conflicts:
            reading.warn(f"{path}.{name}", "conflict", "该项在认定书中有两种不同写法，请核对")

        def put(name: str, value: object) -> None:
            if name in draft.conflicts:
                return
            party[name] = reading.accept(f"{path}.{name}", value, spans.get(name))

        raw = draft.values
        if draft.unknown:
            for name in ("name", "gender", "id_number", "phone", "address", "birth_date", "age"):
                raw.pop(name, None)
        put("label", raw.get("label"))
        name = raw.get("name")
        if isinstance(name, str):
            if F.is_label(name) or not NAME_OK_RE.fullmatch(name):
                reading.warn(f"{path}.name", "invalid", f"“{name}”不像姓名，请核对")
            else:
                put("name", name)
        number = raw.get("id_number")
        if isinstance(number, str) and "id_number" not in draft.conflicts:
            party["id_number"] = F.read_id(reading, f"{path}.id_number", spans["id_number"])
        gender = raw.get("gender")
        from_id = F.id_gender(party["id_number"])
        if gender in ("男", "女"):
            if from_id and from_id != gender:
                reading.warn(f"{path}.gender", "disagree", "性别与身份证号码不一致，请核对")
            else:
                put("gender", gender)
        birth = raw.get("birth_date")
        if isinstance(birth, str):
            day = F.parse_date(birth)
            id_day = F.id_birth(party["id_number"])
            if day is None:
                reading.warn(f"{path}.birth_date", "date", "出生日期无法识别")
            elif id_day and id_day != day:
                reading.warn(f"{path}.birth_date", "disagree", "出生日期与身份证号码不一致，请核对")
            else:
                put("birth_date", day.isoformat())
        phone = raw.get("phone")
        if isinstance(phone, str):
            if PHONE_OK_RE.fullmatch(phone):
                put("phone", phone)
            else:
                reading.warn(f"{path}.phone", "invalid", f"联系电话 {phone} 无法识别，请核对")
        for simple in ("address", "owner", "license_no", "license_class"):
            value = raw.get(simple)
            if isinstance(value, str) and not F.is_label(value):
                put(simple, value)
        if isinstance(raw.get("age"), int) and 0 < raw["age"] < 120:
            put("age", raw["age"])
        plate = raw.get("plate")
        if isinstance(plate, str):
            party["plate"] = F.read_plate(reading, f"{path}.plate", spans["plate"])
        mode = raw.get("traffic_mode")
        if mode == "驾驶" and isinstance(raw.get("vehicle_type"), str):
            mode = "驾驶" + raw["vehicle_type"]  # a form's 交通方式 box says only 驾驶
        if isinstance(mode, str) and mode != "驾驶" and not F.is_label(mode):
            put("traffic_mode", mode)
        kind = raw.get("vehicle_type")
        if (
            isinstance(kind, str)
            and not F.is_label(kind)
            and party["traffic_mode"] not in ("步行", "乘坐")
        ):
            put("vehicle_type", kind)
        if party["traffic_mode"] in ("步行", "乘坐"):
            party["plate"] = None
        for insurer_field in ("ctpi_insurer", "commercial_insurer"):
            value = raw.get(insurer_field)
            if isinstance(value, str):
                party[insurer_field] = self._insurer(
                    f"{path}.{insurer_field}", value, spans.get(insurer_field)
                )
        policy = raw.get("ctpi_policy_no")
        if isinstance(policy, str) and re.fullmatch(r"[0-9A-Z\-]{6,40}", policy):
            put("ctpi_policy_no", policy)
        limit = raw.get("commercial_limit")
        if isinstance(limit, str):
            amount = values.parse_money(limit.replace(",", ""))
            if amount is None or amount[0] <= 0:
                reading.warn(f"{path}.commercial_limit", "amount", f"保险金额 {limit} 无法识别")
            else:
                put("commercial_limit", F.money_digits(amount[0]))
        if raw.get("ctpi_uninsured") and not party["ctpi_insurer"]:
            party["ctpi_uninsured"] = True
        grade = raw.get("liability")
        if "liability" in draft.conflicts:
            pass
        elif isinstance(grade, str):
            put("liability", grade)
        elif self.out["procedure"] in ("general", "simple") and self.out.get("liability_text"):
            reading.warn(f"{path}.liability", "not_found", "责任认定中未找到该当事人的责任，请核对")
        return party

    def _insurer(self, path: str, name: str, span: Span | None) -> str | None:
        if not INSURER_NAME_RE.search(name):
            self.reading.warn(path, "insurer", f"“{name}”不像保险公司名称，请核对")
            return None
        if not any(name.startswith(stem) for stem in KNOWN_INSURERS):
            self.reading.warn(path, "insurer_unknown", f"未登记的保险公司名称“{name}”，请核对")
            if self.reading.source == "ocr":
                return None
        return self.reading.accept(path, name, span)

    def _check_parties(self, parties: list[dict]) -> None:
        """A value that two parties share where it must be unique is a misreading."""
        for name in ("id_number", "plate"):
            seen: dict[str, int] = {}
            for n, party in enumerate(parties):
                value = party[name]
                if value is None:
                    continue
                if value in seen:
                    for index in (seen[value], n):
                        self.reading.warn(
                            f"parties[{index}].{name}", "duplicate", "两位当事人的该项相同，请核对"
                        )
                seen[value] = n


# A person's name (2–6 characters, a dot for some minority names) or a company owner's.
NAME_OK_RE = re.compile(
    r"[\u4e00-\u9fff][\u4e00-\u9fff·•]{1,5}|[\u4e00-\u9fff（）()]{4,40}(?:公司|厂|部|店)"
)
PHONE_OK_RE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8}")
INSURER_NAME_RE = re.compile(r"保险.*(?:公司|营业部|服务部|中心)$|(?:公司|营业部)$")


def _load_insurers() -> tuple[str, ...]:
    from importlib.resources import files

    text = files("app").joinpath("data/insurers.txt").read_text(encoding="utf-8")
    names = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    return tuple(
        sorted(
            {n.replace("（", "(").replace("）", ")") for n in names} | set(names),
            key=len,
            reverse=True,
        )
    )


KNOWN_INSURERS = _load_insurers()


def _first(spans: list[Span] | None) -> Span | None:
    return spans[0] if spans else None


def _value_at(out: dict, path: str) -> object:
    if path.startswith("parties["):
        index, _, name = path[len("parties[") :].partition("].")
        parties = out.get("parties") or []
        n = int(index)
        return parties[n].get(name) if n < len(parties) else None
    return out.get(path)
