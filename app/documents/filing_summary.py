"""The readable summary (summary.pdf) of a filing package: the summary data in, PDF bytes out.

The data is what `app.services.litigation.build_summary` builds (also packaged as
summary.json); the PDF has the agreement's look and prints the data's SHA-256 in its footer.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm

from app.documents.page import Styles, canonical_json_sha256, masthead, paragraph, render
from app.documents.tables import grid, header_row
from app.documents.wording import LIABILITY, ROLES, chinese_time
from app.money import amount_figures

TITLE = "道路交通事故损害赔偿纠纷案件移送诉讼材料摘要"
STATUS_NAMES = {
    "draft": "草稿",
    "reported": "已登记",
    "assessing": "核算中",
    "negotiating": "协商中",
    "agreed": "已达成协议",
    "confirming": "司法确认中",
    "confirmed": "已司法确认",
    "litigation": "转诉讼",
    "paid": "已履行",
    "closed": "已结案",
    "withdrawn": "已撤回",
}
POLICY_NAMES = {"ctpi": "交强险", "commercial": "商业三者险"}


def _case(summary: dict[str, Any], s: Styles) -> list[Any]:
    accident = summary["accident"]
    return [
        paragraph("一、案件基本情况", s.heading),
        paragraph(f"案件编号：{summary['case_number']}", s.plain),
        paragraph(f"案件状态：{STATUS_NAMES.get(summary['status'], summary['status'])}", s.plain),
        paragraph(f"事故认定书编号：{summary.get('report_no') or '—'}", s.plain),
        paragraph(f"事故时间：{chinese_time(accident.get('time'))}", s.plain),
        paragraph(f"事故地点：{accident.get('place') or '—'}", s.plain),
        paragraph(f"调解未成原因：{summary.get('outcome_note') or '—'}", s.plain),
    ]


def _parties(summary: dict[str, Any], s: Styles) -> list[Any]:
    rows: list[list[Any]] = [header_row(("当事人", "姓名", "身份证号码", "身份", "事故责任"), s)]
    for party in summary["parties"]:
        rows.append(
            [
                paragraph(party["label"], s.cell),
                paragraph(party["name"], s.cell),
                paragraph(party["id_number"], s.cell),
                paragraph(ROLES.get(party["role"] or "", party["role"]), s.cell),
                paragraph(LIABILITY.get(party["liability"] or "", "未认定"), s.cell),
            ]
        )
    return [
        paragraph("二、当事人", s.heading),
        grid(rows, [22 * mm, 30 * mm, 44 * mm, 40 * mm, 34 * mm]),
    ]


def _vehicles(summary: dict[str, Any], s: Styles) -> list[Any]:
    rows: list[list[Any]] = [header_row(("号牌", "车型", "驾驶人", "保险"), s)]
    for vehicle in summary["vehicles"]:
        policies = "；".join(
            f"{policy['insurer'] or '—'} {POLICY_NAMES.get(policy['kind'], policy['kind'])}"
            + (f"（限额{amount_figures(policy['limit'])}元）" if policy["limit"] else "")
            for policy in vehicle["policies"]
        )
        rows.append(
            [
                paragraph(vehicle["plate"], s.cell),
                paragraph(vehicle["type"], s.cell),
                paragraph(vehicle["driver"], s.cell),
                paragraph(policies or None, s.cell),
            ]
        )
    return [
        paragraph("三、车辆及保险", s.heading),
        grid(rows, [26 * mm, 26 * mm, 22 * mm, 96 * mm]),
    ]


def _report(summary: dict[str, Any], s: Styles) -> list[Any]:
    report = summary.get("report") or {}
    return [
        paragraph("四、事故认定", s.heading),
        paragraph(f"事故经过：{report.get('facts') or '—'}", s.body),
        paragraph(f"事故原因及责任：{report.get('cause') or '—'}", s.body),
    ]


def _assessment(summary: dict[str, Any], s: Styles) -> list[Any]:
    flow: list[Any] = [paragraph("五、损失核算", s.heading)]
    assessment = summary.get("assessment")
    if not assessment:
        return [*flow, paragraph("尚无核算结果。", s.body)]
    labels = summary.get("payer_labels") or {}
    rows: list[list[Any]] = [header_row(("赔偿义务人", "核算金额（元）"), s)]
    for payer, amount in (assessment.get("totals") or {}).items():
        rows.append(
            [
                paragraph(labels.get(payer, payer), s.cell),
                paragraph(amount_figures(amount), s.cell_right),
            ]
        )
    return [
        *flow,
        paragraph(f"核算指纹：{assessment['fingerprint']}", s.small),
        grid(rows, [100 * mm, 70 * mm]),
    ]


def _offers(summary: dict[str, Any], s: Styles) -> list[Any]:
    flow: list[Any] = [paragraph("六、协商记录", s.heading)]
    if not summary["offers"]:
        return [*flow, paragraph("无报价记录。", s.body)]
    labels = summary.get("payer_labels") or {}
    rows: list[list[Any]] = [header_row(("编号", "赔偿义务人", "金额（元）", "状态", "摘要值"), s)]
    for offer in summary["offers"]:
        rows.append(
            [
                paragraph(offer["id"], s.cell),
                paragraph(labels.get(offer["payer"], offer["payer"]), s.cell),
                paragraph(amount_figures(offer["amount"]), s.cell_right),
                paragraph(offer["status"], s.cell),
                paragraph(offer["digest"][:16], s.small),
            ]
        )
    return [*flow, grid(rows, [14 * mm, 50 * mm, 30 * mm, 26 * mm, 50 * mm])]


def _agreement(summary: dict[str, Any], s: Styles) -> list[Any]:
    agreement = summary.get("agreement")
    return [
        paragraph("七、调解协议", s.heading),
        paragraph(f"调解协议数据 SHA-256：{agreement['sha256']}", s.small)
        if agreement
        else paragraph("未达成调解协议。", s.body),
    ]


def _documents(summary: dict[str, Any], s: Styles) -> list[Any]:
    rows: list[list[Any]] = [header_row(("编号", "类别", "文件名", "SHA-256"), s)]
    for doc in summary["documents"]:
        rows.append(
            [
                paragraph(doc["id"], s.cell),
                paragraph(doc["kind"], s.cell),
                paragraph(doc["filename"], s.cell),
                paragraph(doc["sha256"], s.small),
            ]
        )
    return [paragraph("八、材料清单", s.heading), grid(rows, [14 * mm, 24 * mm, 52 * mm, 80 * mm])]


def render_filing_summary(summary: dict[str, Any], font_path: str) -> bytes:
    """The filing package's summary.pdf (A4) for `summary`; the same data gives the same bytes."""
    s = Styles(font_path)
    flow: list[Any] = masthead(s, TITLE, f"案号：{summary['case_number']}")
    sections = (_case, _parties, _vehicles, _report, _assessment, _offers, _agreement, _documents)
    for section in sections:
        flow.extend(section(summary, s))
    return render(
        flow,
        s,
        title=TITLE,
        number=summary["case_number"],
        sha256=canonical_json_sha256(summary),
        data_label="摘要",
    )
