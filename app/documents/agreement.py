"""The settlement agreement (调解协议书) as a PDF: agreement data in, PDF bytes out.

The data is what `app.services.agreements` builds (its SHA-256 is printed in every page's
footer); the document's wording is Chinese whatever the portal's language, because it is the
legal text the parties sign (人民调解法 arts. 28–29; 处理程序规定 art. 93; DOMAIN.md §6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from app.documents.page import (
    Styles,
    canonical_json_sha256,
    copy_notice,
    masthead,
    paragraph,
    render,
)
from app.documents.tables import amounts_table, grid, header_row, seal_box
from app.documents.wording import (
    LIABILITY,
    ROLES,
    chinese_date,
    chinese_time,
    liability_clause,
    particulars,
)
from app.money import amount_figures, amount_in_words

TITLE = "道路交通事故损害赔偿调解协议书"
PAYER_KINDS = {
    "ctpi": "交强险承保公司",
    "commercial": "商业三者险承保公司",
    "seat": "车上人员责任险承保公司",
    "party": "赔偿责任人",
}
INSURER_KINDS = ("ctpi", "commercial", "seat")


def _percent(share: str | Decimal) -> str:
    """0.8 → 80%; 0.333333 → 33.3333%."""
    value = (Decimal(share) * 100).normalize()
    return f"{value:f}%"


def _party_name(data: dict[str, Any], label: str | None) -> str:
    party = next((p for p in data.get("parties", []) if p.get("label") == label), None)
    if party is None:
        return label or "—"
    return f"{label}（{party['name']}）" if party.get("name") else str(label)


def _parties(data: dict[str, Any], s: Styles) -> list[Any]:
    """Each party with the particulars a court expects, then the victims who are not parties."""
    flow: list[Any] = [paragraph("一、当事人", s.heading)]
    for party in data.get("parties", []):
        plate = f"车辆号牌{party['plate']}" if party.get("plate") else None
        situation = "，".join(
            x for x in (ROLES.get(party.get("role") or ""), party.get("traffic_mode"), plate) if x
        )
        text = f"{party.get('label')}：{particulars(party)}"
        flow.append(paragraph(f"{text}；{situation}。" if situation else f"{text}。", s.plain))
    for victim in data.get("victims", []):
        if victim.get("party"):
            continue
        ride = f"，乘坐{victim['occupant_of']}车辆" if victim.get("occupant_of") else ""
        person = {**victim, "name": victim.get("name") or victim["id"]}
        flow.append(paragraph(f"赔偿权利人：{particulars(person)}{ride}。", s.plain))
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


def _payers(data: dict[str, Any], s: Styles) -> list[Any]:
    payers = data.get("payers", [])
    with_items = any("items" in payer for payer in payers)
    head = ["赔偿义务人", "类别", "对应当事人"] + (["赔付项目"] if with_items else [])
    rows: list[list[Any]] = [header_row(head, s)]
    for payer in payers:
        kind, _, label = payer["payer"].partition(":")
        name = payer.get("insurer") if kind in INSURER_KINDS else None
        row = [
            paragraph(name or payer.get("label"), s.cell),
            paragraph(PAYER_KINDS.get(kind, kind), s.cell),
            paragraph(_party_name(data, label or None), s.cell),
        ]
        if with_items:
            row.append(paragraph(_paid_items(data, payer.get("items")), s.cell))
        rows.append(row)
    widths = [52 * mm, 40 * mm, 26 * mm, 52 * mm] if with_items else [84 * mm, 40 * mm, 46 * mm]
    return [paragraph("二、赔偿义务人", s.heading), grid(rows, widths)]


def _facts(data: dict[str, Any], s: Styles) -> list[Any]:
    report = data.get("report") or {}
    issuer = report.get("issuer") or "公安机关交通管理部门"
    number = report.get("document_no")
    letter = f"《道路交通事故认定书》（{number}）" if number else "《道路交通事故认定书》"
    flow: list[Any] = [
        paragraph("三、事故基本事实及责任认定", s.heading),
        paragraph(f"{issuer}出具{letter}，认定事实如下：", s.body),
        paragraph(
            f"事故时间：{chinese_time(report.get('accident_time'))}；"
            f"事故地点：{report.get('location') or '—'}。",
            s.body,
        ),
        paragraph(f"事故经过：{report.get('facts') or '—'}", s.body),
        paragraph(f"事故原因及责任：{report.get('cause') or '—'}", s.body),
    ]
    grades = "；".join(
        liability_clause(_party_name(data, p.get("label")), p["liability"])
        for p in data.get("parties", [])
        if p.get("liability") in LIABILITY
    )
    if grades:
        flow.append(paragraph(f"各方责任：{grades}。", s.body))
    victims = {v["id"]: v for v in data.get("victims", [])}
    for victim_id, shares in (data.get("shares") or {}).items():
        victim = victims.get(victim_id, {})
        name = victim.get("name") or victim_id
        parts = [
            f"{'本人' if key == 'self' else _party_name(data, key)}承担{_percent(share)}"
            for key, share in shares.items()
            if Decimal(share) > 0
        ]
        flow.append(
            paragraph(f"赔偿比例：{name}的损失在交强险赔付后，{'，'.join(parts)}。", s.body)
        )
    for victim in data.get("victims", []):
        reduction = victim.get("reduction")
        if reduction:
            flow.append(paragraph(_reduction_text(victim, reduction), s.body))
    return flow


def _reduction_text(victim: dict[str, Any], reduction: dict[str, Any]) -> str:
    """好意同乘 (民法典 art. 1217) or 受害人过错 (art. 1173): the liable side's share is reduced."""
    article = {"gratuitous_ride": "第一千二百一十七条", "victim_fault": "第一千一百七十三条"}.get(
        reduction.get("kind") or ""
    )
    basis = f"（《中华人民共和国民法典》{article}）" if article else ""
    ratio = _percent(reduction["ratio"]) if reduction.get("ratio") not in (None, "") else "—"
    reason = f"，理由：{reduction['reason']}" if reduction.get("reason") else ""
    return (
        f"减轻责任：{victim.get('name') or victim['id']}的损失超出交强险的部分，因"
        f"{reduction.get('label') or reduction.get('kind')}减轻赔偿义务人的责任{ratio}，"
        f"由受害人自行承担{reason}{basis}。"
    )


def _items(data: dict[str, Any], s: Styles) -> list[Any]:
    head = ["受害人", "项目", "金额（元）", "计算方式", "依据"]
    rows: list[list[Any]] = [header_row(head, s)]
    subtotal_rows = []
    for victim in data.get("victims", []):
        name = victim.get("name") or victim["id"]
        for item in victim.get("items", []):
            rows.append(
                [
                    paragraph(name, s.cell),
                    paragraph(item.get("label") or item.get("code"), s.cell),
                    paragraph(amount_figures(item["amount"]), s.cell_right),
                    paragraph(item.get("formula"), s.small),
                    paragraph(item.get("basis"), s.small),
                ]
            )
        subtotal_rows.append(len(rows))
        rows.append(
            [
                paragraph(name, s.cell),
                paragraph("损失合计", s.cell),
                paragraph(amount_figures(victim["total"]), s.cell_right),
                paragraph(f"人民币{amount_in_words(victim['total'])}", s.small),
                paragraph("", s.small),
            ]
        )
    table = grid(rows, [22 * mm, 30 * mm, 26 * mm, 52 * mm, 40 * mm])
    table.setStyle(
        TableStyle(
            [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f6f6f6")) for r in subtotal_rows]
        )
    )
    return [
        paragraph("四、损失项目、金额及依据", s.heading),
        paragraph("经调解，各方确认受害人的损失如下（依据为法律及司法解释的条文）：", s.body),
        table,
    ]


def _items_text(items: list[dict[str, Any]] | None) -> str | None:
    return "、".join(
        f"{item.get('label') or item.get('code')} {amount_figures(item['amount'])}元"
        for item in items or []
    )


def _advances_table(data: dict[str, Any], s: Styles) -> Any:
    """The fund's advances: each with its own deadline, the fund's procedure (the agreement's
    payment deadline binds the payers, not the fund)."""
    head = ["受害人", "垫付方", "垫付项目", "垫付金额（元）", "追偿对象", "垫付期限"]
    rows: list[list[Any]] = [header_row(head, s)]
    for advance in data.get("advances", []):
        rows.append(
            [
                paragraph(advance.get("victim_name") or advance.get("victim"), s.cell),
                paragraph(advance.get("payer_label") or "道路交通事故社会救助基金", s.cell),
                paragraph(_items_text(advance.get("items")), s.cell),
                paragraph(amount_figures(advance["amount"]), s.cell_right),
                paragraph(advance.get("recover_from_label"), s.cell),
                paragraph(advance.get("deadline"), s.small),
            ]
        )
    return grid(rows, [20 * mm, 28 * mm, 42 * mm, 24 * mm, 26 * mm, 30 * mm])


def _amounts(data: dict[str, Any], s: Styles) -> list[Any]:
    flow: list[Any] = [
        paragraph("五、赔偿金额、履行方式及期限", s.heading),
        amounts_table(data.get("payers", []), data["total"], s),
        Spacer(1, 2 * mm),
        paragraph(f"履行方式：{data.get('payment_method') or '—'}", s.plain),
        paragraph(f"履行期限：{chinese_date(data.get('payment_due'))}前（含当日）", s.plain),
    ]
    if data.get("advances"):
        flow += [
            Spacer(1, 2 * mm),
            paragraph("道路交通事故社会救助基金垫付（不计入上列赔偿金额）：", s.plain),
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
            f"（¥{amount_figures(advance['amount'])}），该款项不计入本协议第五条所列赔偿金额"
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
            f"¥{amount_figures(recovery['amount'])}），有权在实际赔付的范围内向{driver}追偿{basis}；"
            "该追偿不影响赔偿权利人依本协议取得的赔偿。"
        )
    return terms


def _warnings(data: dict[str, Any], s: Styles) -> list[Any]:
    """The assessment's warnings (stale standards…) in a box at the top of the draft, so that the
    mediator sees them before anyone signs."""
    warnings = [w.get("message") or w.get("code") for w in data.get("warnings") or []]
    if not warnings:
        return []
    lines = [paragraph("计算提示（请在签署前核对）：", s.cell)] + [
        paragraph(f"{index}. {text}", s.cell) for index, text in enumerate(warnings, start=1)
    ]
    box = Table([[lines]], colWidths=[170 * mm])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#b8860b")),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff8e1")),
            ]
        )
    )
    return [Spacer(1, 2 * mm), box, Spacer(1, 2 * mm)]


def _terms(data: dict[str, Any], s: Styles) -> list[Any]:
    due = chinese_date(data.get("payment_due"))
    method = data.get("payment_method") or "约定"
    total = data["total"]
    terms = [
        f"各赔偿义务人于{due}前（含当日），以{method}的方式，按本协议第五条所列金额向赔偿权利人"
        f"支付赔偿款，共计人民币{amount_in_words(total)}（¥{amount_figures(total)}）。",
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
    return [paragraph("六、协议内容", s.heading)] + [
        paragraph(f"{index}. {text}", s.body) for index, text in enumerate(terms, start=1)
    ]


def _signatures(data: dict[str, Any], s: Styles) -> list[Any]:
    line = "＿" * 10
    rows: list[list[Any]] = []
    for signatory in data.get("signatories", []):
        who = signatory.get("name") or signatory.get("label") or "＿" * 6
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
            [
                paragraph(title, s.cell),
                paragraph(f"{action}{line}", s.cell),
                paragraph("日期：＿＿＿＿", s.cell),
            ]
        )
    signatures = Table(rows, colWidths=[70 * mm, 72 * mm, 28 * mm])
    signatures.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 9)])
    )
    committee = [
        paragraph(f"人民调解员：{data.get('mediator') or '—'}　　签名：{line}", s.plain),
        Spacer(1, 3 * mm),
        paragraph(f"人民调解委员会：{data.get('committee') or '—'}", s.plain),
        Spacer(1, 3 * mm),
        paragraph(f"日期：{chinese_date(data.get('date'))}", s.plain),
    ]
    footer = Table(
        [[committee, seal_box("（人民调解委员会印章）", s)]], colWidths=[125 * mm, 45 * mm]
    )
    footer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [
        paragraph("七、签署", s.heading),
        signatures,
        Spacer(1, 6 * mm),
        KeepTogether([footer]),
    ]


def render_agreement(data: dict[str, Any], font_path: str, *, copy_of: str | None = None) -> bytes:
    """The 调解协议书 PDF (A4) for the agreement `data`; the same data gives the same bytes.

    With `copy_of` (the SHA-256 of the original's data) it is a copy (副本) of that original,
    made from `data` as the caller prepared it, and its footer names the original's data."""
    s = Styles(font_path)
    title = f"{TITLE}（副本）" if copy_of else TITLE
    flow: list[Any] = [
        *masthead(
            s,
            title,
            f"编号：{data.get('case_number')}",
            f"调解组织：{data.get('committee') or '—'}",
        ),
        *(copy_notice(s) if copy_of else []),
        paragraph(
            "各方当事人因道路交通事故损害赔偿纠纷，自愿申请人民调解。经调解，各方在平等协商、"
            "互谅互让的基础上自愿达成如下协议：",
            s.body,
        ),
    ]
    for section in (_warnings, _parties, _payers, _facts, _items, _amounts, _terms, _signatures):
        flow.extend(section(data, s))
    return render(
        flow,
        s,
        title=title,
        number=str(data.get("case_number") or ""),
        sha256=copy_of or canonical_json_sha256(data),
        data_label="原件协议" if copy_of else "协议",
        author=data.get("committee") or "",
    )
