"""The settlement agreement (调解协议书) as a PDF: agreement data in, PDF bytes out.

Pure: no Flask, no database. The data is what `app.services.agreements` builds (its `sha256` is
printed in every page's footer); the document's wording is Chinese whatever the portal's
language, because it is the legal text the parties sign (人民调解法 arts. 28–29; 处理程序规定
art. 93; DOMAIN.md §6).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus import TableStyle as Style

TITLE = "道路交通事故损害赔偿调解协议书"
from app.clock import BEIJING  # noqa: E402

# -- amounts in Chinese capital numerals (大写) --------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿")
_LIMIT = Decimal("1000000000000")  # 万亿: beyond Numeric(14, 2)


def amount_in_words(amount: Decimal | str | int) -> str:
    """An amount of yuan in capital numerals as written on cheques and agreements.

    Follows the People's Bank of China rules for 中文大写金额 (支付结算办法 annex): 元整 when
    there are no 角 and 分 (and 角整, which the rules allow, so that nothing can be appended);
    one 零 for a run of zeros inside the number; 元零…分 when 角 is zero but 分 is not; a zero at
    the 万/亿/元 position followed by a non-zero 仟/角 is not written (the rules allow either).
    123000 → 壹拾贰万叁仟元整; 100000.05 → 壹拾万元零伍分; 0 → 零元整.
    """
    if isinstance(amount, float):
        raise TypeError("give the amount as a Decimal or a string, never a float")
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite() or value < 0 or value >= _LIMIT:
        raise ValueError(f"amount out of range: {amount!r}")
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        raise ValueError(f"an amount has at most two decimals: {amount!r}")
    yuan, rest = divmod(int(cents * 100), 100)
    jiao, fen = divmod(rest, 10)
    words = _integer_words(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 元零伍分: the missing 角 must show
    return words + (_DIGITS[fen] + "分" if fen else "整")


def _integer_words(number: int) -> str:
    digits = str(number)
    out: list[str] = []
    pending_zero = False
    for index, char in enumerate(digits):
        group, small = divmod(len(digits) - 1 - index, 4)
        if char == "0":
            pending_zero = True
        else:
            if pending_zero and out:
                out.append("零")
            pending_zero = False
            out.append(_DIGITS[int(char)] + _SMALL_UNITS[small])
        if small == 0 and group > 0 and digits[max(0, index - 3) : index + 1].strip("0"):
            # The group's name (万, 亿) absorbs a zero in its last place: 壹拾万柒仟.
            out.append(_GROUP_UNITS[group])
            pending_zero = False
    return "".join(out)


def money(amount: Decimal | str) -> str:
    """12345.6 → 12,345.60."""
    return f"{Decimal(amount):,.2f}"


# -- wording of the data ------------------------------------------------------------------------

LIABILITY = {
    "full": "全部责任",
    "main": "主要责任",
    "equal": "同等责任",
    "minor": "次要责任",
    "none": "无责任",
}
ROLES = {
    "driver": "机动车驾驶人",
    "pedestrian": "行人",
    "passenger": "乘车人",
    "cyclist": "非机动车驾驶人",
    "owner": "车辆所有人",
}
PAYER_KINDS = {
    "ctpi": "交强险承保公司",
    "commercial": "商业三者险承保公司",
    "seat": "车上人员责任险承保公司",
    "party": "赔偿责任人",
}
INSURER_KINDS = ("ctpi", "commercial", "seat")


def chinese_date(value: str | None) -> str:
    """2024-01-05 → 2024年1月5日."""
    if not value:
        return "—"
    day = date.fromisoformat(value[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_time(value: str | None) -> str:
    """An ISO time → 2023年11月5日9时30分 (Beijing time)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日{moment.hour}时{moment.minute:02d}分"


def percent(share: str | Decimal) -> str:
    """0.8 → 80%; 0.333333 → 33.3333%."""
    value = (Decimal(share) * 100).normalize()
    return f"{value:f}%"


def canonical_json_sha256(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `data` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the document -------------------------------------------------------------------------------


def _font(font_path: str) -> str:
    """Register the CJK TrueType font once per process (a .ttc: its first face)."""
    name = "DaojiaoCJK-" + hashlib.sha256(font_path.encode()).hexdigest()[:12]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, font_path, subfontIndex=0))
    return name


class _Styles:
    def __init__(self, font: str) -> None:
        base = {"fontName": font, "wordWrap": "CJK"}
        self.title = ParagraphStyle(
            "title", **base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4
        )
        self.number = ParagraphStyle("number", **base, fontSize=10, leading=14, alignment=TA_RIGHT)
        self.heading = ParagraphStyle(
            "heading",
            **base,
            fontSize=12,
            leading=18,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        )
        self.body = ParagraphStyle("body", **base, fontSize=10.5, leading=16, firstLineIndent=21)
        self.plain = ParagraphStyle("plain", **base, fontSize=10.5, leading=16)
        self.cell = ParagraphStyle("cell", **base, fontSize=9, leading=12)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.small = ParagraphStyle("small", **base, fontSize=8, leading=10)
        self.seal = ParagraphStyle(
            "seal", **base, fontSize=9, leading=12, alignment=TA_CENTER, textColor=colors.grey
        )


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("—" if text in (None, "") else str(text)), style)


def _table(rows: list[list[Any]], widths: list[float], *, total_rows: int = 0) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if total_rows:
        commands.append(("BACKGROUND", (0, -total_rows), (-1, -1), colors.HexColor("#f6f6f6")))
    table.setStyle(Style(commands))
    return table


def _party_name(data: dict[str, Any], label: str | None) -> str:
    party = next((p for p in data.get("parties", []) if p.get("label") == label), None)
    if party is None:
        return label or "—"
    return f"{label}（{party['name']}）" if party.get("name") else str(label)


def _parties(data: dict[str, Any], s: _Styles) -> list[Any]:
    head = ["当事人", "姓名", "身份证号码", "身份及交通方式", "车辆号牌", "事故责任"]
    rows: list[list[Any]] = [[_p(text, s.cell) for text in head]]
    for party in data.get("parties", []):
        role = ROLES.get(party.get("role") or "", "")
        mode = party.get("traffic_mode") or ""
        rows.append(
            [
                _p(party.get("label"), s.cell),
                _p(party.get("name"), s.cell),
                _p(party.get("id_number"), s.cell),
                _p("，".join(x for x in (role, mode) if x) or None, s.cell),
                _p(party.get("plate"), s.cell),
                _p(LIABILITY.get(party.get("liability") or "", "未认定"), s.cell),
            ]
        )
    flow: list[Any] = [
        Paragraph("一、当事人", s.heading),
        _table(rows, [18 * mm, 24 * mm, 40 * mm, 40 * mm, 26 * mm, 22 * mm]),
    ]
    others = [v for v in data.get("victims", []) if not v.get("party")]
    if others:
        names = "；".join(
            f"{v.get('name') or v['id']}"
            + (
                f"（{_party_name(data, v['occupant_of'])}车辆乘车人）"
                if v.get("occupant_of")
                else ""
            )
            for v in others
        )
        flow.append(Spacer(1, 2 * mm))
        flow.append(_p(f"其他赔偿权利人：{names}", s.plain))
    return flow


def _victim_name(data: dict[str, Any], victim_id: str | None) -> str:
    victim = next((v for v in data.get("victims", []) if v.get("id") == victim_id), None)
    return (victim or {}).get("name") or victim_id or "—"


def _paid_items(data: dict[str, Any], items: list[dict[str, Any]] | None) -> str | None:
    """'王五：医疗费、住院伙食补助费；李四：医疗费' — which items a payer pays, per victim."""
    by_victim: dict[str, list[str]] = {}
    for item in items or []:
        labels = by_victim.setdefault(item.get("victim") or "", [])
        label = item.get("label") or item.get("code") or ""
        if label not in labels:
            labels.append(label)
    if not by_victim:
        return None
    if len(by_victim) == 1 and len(data.get("victims", [])) <= 1:
        return "、".join(next(iter(by_victim.values())))
    return "；".join(
        f"{_victim_name(data, victim)}：{'、'.join(labels)}" for victim, labels in by_victim.items()
    )


def _payers(data: dict[str, Any], s: _Styles) -> list[Any]:
    payers = data.get("payers", [])
    with_items = any("items" in payer for payer in payers)
    head = ["赔偿义务人", "类别", "对应当事人"] + (["赔付项目"] if with_items else [])
    rows: list[list[Any]] = [[_p(text, s.cell) for text in head]]
    for payer in payers:
        kind, _, label = payer["payer"].partition(":")
        name = payer.get("insurer") if kind in INSURER_KINDS else None
        row = [
            _p(name or payer.get("label"), s.cell),
            _p(PAYER_KINDS.get(kind, kind), s.cell),
            _p(_party_name(data, label or None), s.cell),
        ]
        if with_items:
            row.append(_p(_paid_items(data, payer.get("items")), s.cell))
        rows.append(row)
    widths = [52 * mm, 40 * mm, 26 * mm, 52 * mm] if with_items else [84 * mm, 40 * mm, 46 * mm]
    return [Paragraph("二、赔偿义务人", s.heading), _table(rows, widths)]


def _facts(data: dict[str, Any], s: _Styles) -> list[Any]:
    report = data.get("report") or {}
    issuer = report.get("issuer") or "公安机关交通管理部门"
    number = report.get("document_no")
    letter = f"《道路交通事故认定书》（{number}）" if number else "《道路交通事故认定书》"
    flow: list[Any] = [
        Paragraph("三、事故基本事实及责任认定", s.heading),
        _p(f"{issuer}出具{letter}，认定事实如下：", s.body),
        _p(
            f"事故时间：{chinese_time(report.get('accident_time'))}；"
            f"事故地点：{report.get('location') or '—'}。",
            s.body,
        ),
        _p(f"事故经过：{report.get('facts') or '—'}", s.body),
        _p(f"事故原因及责任：{report.get('cause') or '—'}", s.body),
    ]
    grades = "；".join(
        f"{_party_name(data, p.get('label'))}承担{LIABILITY[p['liability']]}"
        for p in data.get("parties", [])
        if p.get("liability") in LIABILITY
    )
    if grades:
        flow.append(_p(f"各方责任：{grades}。", s.body))
    victims = {v["id"]: v for v in data.get("victims", [])}
    for victim_id, shares in (data.get("shares") or {}).items():
        victim = victims.get(victim_id, {})
        name = victim.get("name") or victim_id
        parts = [
            f"{'本人' if key == 'self' else _party_name(data, key)}承担{percent(share)}"
            for key, share in shares.items()
            if Decimal(share) > 0
        ]
        flow.append(_p(f"赔偿比例：{name}的损失在交强险赔付后，{'，'.join(parts)}。", s.body))
    for victim in data.get("victims", []):
        reduction = victim.get("reduction")
        if reduction:
            flow.append(_p(_reduction_text(victim, reduction), s.body))
    return flow


def _reduction_text(victim: dict[str, Any], reduction: dict[str, Any]) -> str:
    """好意同乘 (民法典 art. 1217) or 受害人过错 (art. 1173): the liable side's share is reduced."""
    article = {"gratuitous_ride": "第一千二百一十七条", "victim_fault": "第一千一百七十三条"}.get(
        reduction.get("kind") or ""
    )
    basis = f"（《中华人民共和国民法典》{article}）" if article else ""
    ratio = percent(reduction["ratio"]) if reduction.get("ratio") not in (None, "") else "—"
    reason = f"，理由：{reduction['reason']}" if reduction.get("reason") else ""
    return (
        f"减轻责任：{victim.get('name') or victim['id']}的损失超出交强险的部分，因"
        f"{reduction.get('label') or reduction.get('kind')}减轻赔偿义务人的责任{ratio}，"
        f"由受害人自行承担{reason}{basis}。"
    )


def _items(data: dict[str, Any], s: _Styles) -> list[Any]:
    head = ["受害人", "项目", "金额（元）", "计算方式", "依据"]
    rows: list[list[Any]] = [[_p(text, s.cell) for text in head]]
    subtotal_rows = []
    for victim in data.get("victims", []):
        name = victim.get("name") or victim["id"]
        for item in victim.get("items", []):
            rows.append(
                [
                    _p(name, s.cell),
                    _p(item.get("label") or item.get("code"), s.cell),
                    _p(money(item["amount"]), s.cell_right),
                    _p(item.get("formula"), s.small),
                    _p(item.get("basis"), s.small),
                ]
            )
        subtotal_rows.append(len(rows))
        rows.append(
            [
                _p(name, s.cell),
                _p("损失合计", s.cell),
                _p(money(victim["total"]), s.cell_right),
                _p(f"人民币{amount_in_words(victim['total'])}", s.small),
                _p("", s.small),
            ]
        )
    table = _table(rows, [22 * mm, 30 * mm, 26 * mm, 52 * mm, 40 * mm])
    table.setStyle(
        Style([("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f6f6f6")) for r in subtotal_rows])
    )
    return [
        Paragraph("四、损失项目、金额及依据", s.heading),
        _p("经调解，各方确认受害人的损失如下（依据为法律及司法解释的条文）：", s.body),
        table,
    ]


def payer_amounts(data: dict[str, Any], s: _Styles) -> Any:
    """The table of each payer's amount in figures and in 大写, with the total."""
    head = ["赔偿义务人", "赔偿金额（元）", "大写"]
    rows: list[list[Any]] = [[_p(text, s.cell) for text in head]]
    for payer in data.get("payers", []):
        rows.append(
            [
                _p(payer.get("label"), s.cell),
                _p(money(payer["amount"]), s.cell_right),
                _p(f"人民币{amount_in_words(payer['amount'])}", s.cell),
            ]
        )
    rows.append(
        [
            _p("合计", s.cell),
            _p(money(data["total"]), s.cell_right),
            _p(f"人民币{amount_in_words(data['total'])}", s.cell),
        ]
    )
    return _table(rows, [70 * mm, 32 * mm, 68 * mm], total_rows=1)


def _items_text(items: list[dict[str, Any]] | None) -> str | None:
    return "、".join(
        f"{item.get('label') or item.get('code')} {money(item['amount'])}元" for item in items or []
    )


def _advances_table(data: dict[str, Any], s: _Styles) -> Any:
    """The fund's advances: each with its own deadline, the fund's procedure (the agreement's
    payment deadline binds the payers, not the fund)."""
    head = ["受害人", "垫付方", "垫付项目", "垫付金额（元）", "追偿对象", "垫付期限"]
    rows: list[list[Any]] = [[_p(text, s.cell) for text in head]]
    for advance in data.get("advances", []):
        rows.append(
            [
                _p(advance.get("victim_name") or advance.get("victim"), s.cell),
                _p(advance.get("payer_label") or "道路交通事故社会救助基金", s.cell),
                _p(_items_text(advance.get("items")), s.cell),
                _p(money(advance["amount"]), s.cell_right),
                _p(advance.get("recover_from_label"), s.cell),
                _p(advance.get("deadline"), s.small),
            ]
        )
    return _table(rows, [20 * mm, 28 * mm, 42 * mm, 24 * mm, 26 * mm, 30 * mm])


def _amounts(data: dict[str, Any], s: _Styles) -> list[Any]:
    flow: list[Any] = [
        Paragraph("五、赔偿金额、履行方式及期限", s.heading),
        payer_amounts(data, s),
        Spacer(1, 2 * mm),
        _p(f"履行方式：{data.get('payment_method') or '—'}", s.plain),
        _p(f"履行期限：{chinese_date(data.get('payment_due'))}前（含当日）", s.plain),
    ]
    if data.get("advances"):
        flow += [
            Spacer(1, 2 * mm),
            _p("道路交通事故社会救助基金垫付（不计入上列赔偿金额）：", s.plain),
            _advances_table(data, s),
        ]
    return flow


def _advance_terms(data: dict[str, Any]) -> list[str]:
    """A clause per fund advance: who owes it back, on the fund's own procedure."""
    terms = []
    for advance in data.get("advances", []):
        fund = advance.get("payer_label") or "道路交通事故社会救助基金"
        items = "、".join(item.get("label") or item["code"] for item in advance.get("items") or [])
        owes = advance.get("recover_from_label")
        basis = f"依据{advance['basis']}，" if advance.get("basis") else ""
        terms.append(
            f"{basis}{fund}为{advance.get('victim_name') or advance.get('victim')}垫付"
            f"{items or '费用'}共计人民币{amount_in_words(advance['amount'])}"
            f"（¥{money(advance['amount'])}），该款项不计入本协议第五条所列赔偿金额"
            + (f"，由{owes}承担，救助基金管理机构有权向其追偿" if owes else "")
            + "；赔偿权利人就已获垫付的部分不重复受偿；垫付的申请与期限"
            + (advance.get("deadline") or "按《道路交通事故社会救助基金管理办法》办理")
            + "。"
        )
    return terms


def _recovery_terms(data: dict[str, Any]) -> list[str]:
    """A clause per recovery: the insurer pays the victim and may recover it from the driver."""
    terms = []
    for recovery in data.get("recoveries", []):
        reason = recovery.get("reason_label") or recovery.get("reason") or "法定事由"
        driver = recovery.get("from_label") or recovery.get("from")
        basis = f"（{recovery['basis']}）" if recovery.get("basis") else ""
        terms.append(
            f"因{driver}{reason}，{recovery.get('payer_label') or recovery.get('payer')}"
            f"依本协议赔付的人身损害赔偿（按赔偿计算为人民币{amount_in_words(recovery['amount'])}，"
            f"¥{money(recovery['amount'])}），有权在实际赔付的范围内向{driver}追偿{basis}；"
            "该追偿不影响赔偿权利人依本协议取得的赔偿。"
        )
    return terms


def _warnings(data: dict[str, Any], s: _Styles) -> list[Any]:
    """The assessment's warnings (stale standards…) in a box at the top of the draft, so that the
    mediator sees them before anyone signs."""
    warnings = [w.get("message") or w.get("code") for w in data.get("warnings") or []]
    if not warnings:
        return []
    lines = [_p("计算提示（请在签署前核对）：", s.cell)] + [
        _p(f"{index}. {text}", s.cell) for index, text in enumerate(warnings, start=1)
    ]
    box = Table([[lines]], colWidths=[170 * mm])
    box.setStyle(
        Style(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#b8860b")),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff8e1")),
            ]
        )
    )
    return [Spacer(1, 2 * mm), box, Spacer(1, 2 * mm)]


def _terms(data: dict[str, Any], s: _Styles) -> list[Any]:
    due = chinese_date(data.get("payment_due"))
    method = data.get("payment_method") or "约定"
    total = data["total"]
    terms = [
        f"各赔偿义务人于{due}前（含当日），以{method}的方式，按本协议第五条所列金额向赔偿权利人"
        f"支付赔偿款，共计人民币{amount_in_words(total)}（¥{money(total)}）。",
        *_advance_terms(data),
        *_recovery_terms(data),
        "赔偿义务人按本协议履行完毕后，各方就本次道路交通事故引起的损害赔偿纠纷全部了结，"
        "赔偿权利人不再就本次事故向赔偿义务人及其他当事人主张任何赔偿。",
        "本协议经各方当事人、赔偿义务人签名或者盖章，人民调解员签名并加盖人民调解委员会印章后"
        "生效，具有法律约束力，当事人应当按照约定履行（《中华人民共和国人民调解法》第二十九条、"
        "第三十一条）。",
        "各方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认"
        "（《中华人民共和国人民调解法》第三十三条）。",
        "本协议一式多份，各方当事人、赔偿义务人及人民调解委员会各执一份，具有同等效力。",
    ]
    return [Paragraph("六、协议内容", s.heading)] + [
        _p(f"{index}. {text}", s.body) for index, text in enumerate(terms, start=1)
    ]


def _signatures(data: dict[str, Any], s: _Styles) -> list[Any]:
    line = "＿" * 10
    rows: list[list[Any]] = []
    for signatory in data.get("signatories", []):
        who = signatory.get("name") or signatory["id"]
        if signatory.get("kind") == "insurer":
            title = f"赔偿义务人：{who}（{signatory.get('role') or ''}）"
            action = "盖章／经办人签名："
        elif signatory.get("kind") == "victim":
            title = f"赔偿权利人：{who}"
            action = "签名（捺印）："
        else:
            title = f"当事人{signatory['id']}：{who}"
            action = "签名（捺印）："
        rows.append(
            [_p(title, s.cell), _p(f"{action}{line}", s.cell), _p("日期：＿＿＿＿", s.cell)]
        )
    signatures = Table(rows, colWidths=[70 * mm, 72 * mm, 28 * mm])
    signatures.setStyle(
        Style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 9)])
    )
    seal = Table(
        [[_p("（人民调解委员会印章）", s.seal)]], colWidths=[42 * mm], rowHeights=[42 * mm]
    )
    seal.setStyle(
        Style(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    committee = [
        _p(f"人民调解员：{data.get('mediator') or '—'}　　签名：{line}", s.plain),
        Spacer(1, 3 * mm),
        _p(f"人民调解委员会：{data.get('committee') or '—'}", s.plain),
        Spacer(1, 3 * mm),
        _p(f"日期：{chinese_date(data.get('date'))}", s.plain),
    ]
    footer = Table([[committee, seal]], colWidths=[125 * mm, 45 * mm])
    footer.setStyle(Style([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [
        Paragraph("七、签署", s.heading),
        signatures,
        Spacer(1, 6 * mm),
        KeepTogether([footer]),
    ]


def _numbered_canvas(
    font: str,
    case_number: str,
    sha256: str,
    *,
    number_label: str = "案号",
    data_label: str = "协议",
) -> type[Canvas]:
    """A canvas that prints the footer on every page once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(count)
                super().showPage()
            super().save()

        def _footer(self, count: int) -> None:
            width, _height = self._pagesize
            self.saveState()
            self.setFont(font, 7.5)
            self.setStrokeColor(colors.grey)
            self.line(20 * mm, 19 * mm, width - 20 * mm, 19 * mm)
            self.drawString(20 * mm, 15 * mm, f"{number_label}：{case_number}")
            self.drawRightString(width - 20 * mm, 15 * mm, f"第 {self._pageNumber}/{count} 页")
            self.drawString(20 * mm, 11 * mm, f"{data_label}数据 SHA-256: {sha256}")
            self.restoreState()

    return NumberedCanvas


def render_agreement(data: dict[str, Any], font_path: str) -> bytes:
    """The 调解协议书 PDF (A4) for the agreement `data`; the same data gives the same bytes."""
    font = _font(font_path)
    s = _Styles(font)
    sha256 = canonical_json_sha256(data)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=26 * mm,
        title=TITLE,
        subject=f"{data.get('case_number')} SHA-256 {sha256}",
        author=data.get("committee") or "",
        creator="Daojiao",
        invariant=1,
    )
    flow: list[Any] = [
        Paragraph(TITLE, s.title),
        _p(f"编号：{data.get('case_number')}", s.number),
        _p(f"调解组织：{data.get('committee') or '—'}", s.number),
        Spacer(1, 3 * mm),
        _p(
            "各方当事人因道路交通事故损害赔偿纠纷，自愿申请人民调解。经调解，各方在平等协商、"
            "互谅互让的基础上自愿达成如下协议：",
            s.body,
        ),
    ]
    for section in (_warnings, _parties, _payers, _facts, _items, _amounts, _terms, _signatures):
        flow.extend(section(data, s))
    document.build(
        flow,
        canvasmaker=_numbered_canvas(font, str(data.get("case_number") or ""), sha256),
    )
    return buffer.getvalue()


# The building blocks the ruling (app/rulings_pdf.py) shares with the agreement.
register_font = _font
Styles = _Styles
paragraph = _p
grid = _table
numbered_canvas = _numbered_canvas
