"""The words reports use to introduce a value, and one scan that finds them all."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from .text import MARKERS

# kind → field → the ways it is labelled. Longer labels win over their prefixes.
DOC = {
    "document_no": ("认定书编号", "文书编号", "认定书号", "编号", "文号"),
    "accident_time": (
        "道路交通事故发生时间",
        "道路交通事故时间",
        "交通事故发生时间",
        "交通事故时间",
        "事故发生时间",
        "事故时间",
        "发生时间",
        "事发时间",
    ),
    "location": (
        "道路交通事故发生地点",
        "道路交通事故地点",
        "交通事故发生地点",
        "交通事故地点",
        "事故发生地点",
        "事故地点",
        "发生地点",
        "事发地点",
    ),
    "weather": ("天气情况", "天气"),
    "issue_date": ("认定日期", "制作日期", "出具日期", "认定书制作日期"),
    "issuer": ("交通事故认定机关", "事故认定机关", "认定机关", "处理机关", "办案单位", "办案机关"),
    "accident_form": ("事故形态", "碰撞形态"),
}
SECTION = {
    "parties": (
        "当事人、车辆、道路和交通环境等基本情况",
        "当事人、车辆、道路和交通环境基本情况",
        "当事人、车辆、道路和交通环境情况",
        "当事人基本情况",
        "当事人情况",
        "当事人信息",
    ),
    "road": (
        "道路及交通环境情况",
        "道路和交通环境",
        "道路情况",
        "道路环境",
        "交通环境",
        "道路状况",
    ),
    "facts": (
        "道路交通事故发生经过",
        "交通事故发生经过",
        "事故发生经过",
        "道路交通事故事实",
        "交通事故事实及责任",
        "交通事故事实",
        "事故基本事实",
        "事故事实",
        "事故经过",
        "基本事实",
        "简要案情",
    ),
    "cause": (
        "道路交通事故证据及事故形成原因分析",
        "交通事故证据及事故形成原因分析",
        "事故证据及形成原因分析",
        "证据及事故形成原因分析",
        "事故形成原因分析",
        "证据及原因分析",
        "事故原因分析",
        "形成原因分析",
        "原因分析",
        "事故原因",
    ),
    "liability": (
        "当事人导致交通事故的过错及责任或者意外原因",
        "当事人导致交通事故的过错及责任",
        "当事人的过错及责任",
        "当事人过错及责任",
        "事故责任认定",
        "事故责任划分",
        "责任认定",
        "责任划分",
        "当事人责任",
    ),
    "stop": ("交通警察", "当事人签名", "当事人签字", "损害赔偿调解结果", "调解结果", "注", "备注"),
}
PARTY = {
    "name": ("当事人姓名", "驾驶人姓名", "姓名", "单位名称", "名称"),
    "gender": ("性别",),
    "age": ("年龄",),
    "birth_date": ("出生日期", "出生年月日", "出生年月"),
    "id_number": (
        "驾驶证或身份证号码",
        "身份证或驾驶证号码",
        "居民身份证号码",
        "公民身份号码",
        "身份证明号码",
        "身份证号码",
        "身份证号",
        "身份号码",
        "证件号码",
    ),
    "phone": ("联系电话", "电话号码", "手机号码", "联系方式", "电话", "手机"),
    "address": (
        "现住址",
        "家庭住址",
        "户籍地址",
        "联系地址",
        "住址",
        "住所地",
        "住所",
        "户籍所在地",
    ),
    "license_no": (
        "机动车驾驶证号码",
        "机动车驾驶证号",
        "驾驶证号码",
        "驾驶证编号",
        "驾驶证号",
        "证号",
    ),
    "license_class": ("准驾车型",),
    "traffic_mode": ("交通方式",),
    "plate": ("号牌号码", "机动车号牌", "车辆号牌", "车牌号码", "车牌号", "号牌", "牌号"),
    "vehicle_type": ("机动车类型", "车辆类型", "车辆种类", "车型", "机动车型"),
    "vehicle_plate": (
        "机动车型、牌号",
        "车型、牌号",
        "车型及牌号",
        "车辆类型及号牌",
        "车辆类型、号牌",
    ),
    "owner": ("机动车所有人", "车辆所有人", "所有人", "车主"),
    "ctpi_insurer": (
        "交强险承保公司",
        "交强险保险公司",
        "交强险承保单位",
        "交强险投保公司",
        "交强险承保机构",
        "交强险",
    ),
    "ctpi_policy_no": (
        "交强险保单号码",
        "交强险保单号",
        "交强险保险单号",
        "交强险凭证号",
        "保险凭证号",
    ),
    "policy_no": ("保险单号", "保单号码", "保单号"),
    "commercial_insurer": (
        "商业第三者责任险承保公司",
        "商业三者险承保公司",
        "商业险承保公司",
        "商业险保险公司",
        "商业三者险",
        "商业险",
    ),
    "commercial_limit": (
        "商业三者险限额",
        "商业三者险保额",
        "商业险保险金额",
        "商业险限额",
    ),
    "limit": ("保险金额", "责任限额", "赔偿限额", "保额"),
    "commercial_policy_no": ("商业险保单号", "商业三者险保单号"),
    "insurer": ("保险公司", "承保公司"),
    "liability": ("事故责任", "责任"),
}
# Labels whose value may follow with no colon ("电话13812345678", "保险金额100万元").
DIRECT = frozenset(
    (
        "id_number",
        "phone",
        "license_no",
        "ctpi_policy_no",
        "policy_no",
        "commercial_policy_no",
        "limit",
        "commercial_limit",
        "license_class",
    )
)
# A label starts a clause or a cell: it follows one of these (or the start of the text).
BEFORE = frozenset("\t\n，,；;。：:（(）)、")
COLONS = frozenset("：:")

LOOKUP: dict[str, tuple[str, str]] = {}
for kind, table in (("doc", DOC), ("section", SECTION), ("party", PARTY)):
    for name, words in table.items():
        for word in words:
            LOOKUP.setdefault(word, (kind, name))
LABEL_RE = re.compile("|".join(re.escape(w) for w in sorted(LOOKUP, key=len, reverse=True)))


@dataclass(slots=True)
class Label:
    """A label found in the stream: `start:end` is the word, the value starts at `vstart`."""

    start: int
    end: int
    vstart: int
    kind: str
    field: str


def find_labels(text: str) -> list[Label]:
    """Every word of LOOKUP that stands where a label stands (one pass over the stream)."""
    found = []
    size = len(text)
    for match in LABEL_RE.finditer(text):
        start, end = match.span()
        if start and text[start - 1] not in BEFORE:
            continue
        kind, name = LOOKUP[match.group()]
        nxt = text[end] if end < size else "\n"
        if nxt in COLONS:
            vstart = end + 1
        elif nxt in MARKERS:
            vstart = end
        elif name in DIRECT and (nxt.isascii() and nxt.isalnum() or nxt in "为是"):
            vstart = end + (1 if nxt in "为是" else 0)
        else:
            continue
        found.append(Label(start, end, vstart, kind, name))
    return found


def header_field(text: str) -> str | None:
    """The party field a table header or row-label cell names ('联系电话' → 'phone')."""
    text = text.strip("：:*＊ " + MARKERS)
    entry = LOOKUP.get(text)
    if entry and entry[0] == "party":
        return entry[1]
    return None


class LabelIndex:
    """Labels sorted by position, to find the next one after a point."""

    def __init__(self, labels: list[Label]) -> None:
        self.labels = labels
        self.starts = [label.start for label in labels]

    def next_start(self, pos: int, limit: int) -> int:
        """Where the next label at or after `pos` starts (or `limit`)."""
        i = bisect_left(self.starts, pos)
        return self.starts[i] if i < len(self.starts) and self.starts[i] < limit else limit

    def within(self, start: int, end: int) -> list[Label]:
        """The labels that start inside [start, end)."""
        i = bisect_left(self.starts, start)
        j = bisect_left(self.starts, end)
        return self.labels[i:j]
