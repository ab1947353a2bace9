"""The judicial confirmation ruling (民事裁定书, special procedure) as a PDF: ruling data in, PDF
bytes out.

The data is what `app.services.tribunal` builds (its SHA-256 is printed in every page's footer
with the ruling number); the wording is Chinese whatever the portal's language, because it is
the court's legal text (民诉法 arts. 205–206; DOMAIN.md §6).
"""

from __future__ import annotations

from typing import Any

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
from app.documents.tables import amounts_table, seal_box
from app.documents.wording import chinese_date, particulars

TITLE = "民事裁定书"
# 民诉法 art. 206: the ruling that confirms an agreement orders its performance.
ORDER = (
    "当事人应当按照调解协议履行义务；一方拒绝履行或者未全部履行的，对方可以向人民法院申请强制执行"
)
APPLICANT_KINDS = {"party": "当事人", "victim": "赔偿权利人", "insurer": "赔偿义务人"}


def ruling_order(
    applicants: list[str], *, signed_on: str | None, committee: str, agreement_number: str
) -> str:
    """The order confirming the agreement, named by its applicants, its day of signing, the
    committee that mediated it and its number (民诉法 art. 206; DOMAIN.md §6)."""
    names = (
        "、".join(applicants[:-1]) + "与" + applicants[-1]
        if len(applicants) > 1
        else "".join(applicants)
    )
    return (
        f"申请人{names}于{chinese_date(signed_on)}经{committee}主持调解达成的"
        f"编号为{agreement_number}的调解协议有效；{ORDER}"
    )


def _applicant(applicant: dict[str, Any]) -> str:
    """申请人（甲方）：张三，男，…; an insurer by its name and the cover it answers for."""
    kind = applicant.get("kind")
    if kind == "insurer":
        covers = f"（{applicant['covers']}）" if applicant.get("covers") else ""
        return f"申请人（{APPLICANT_KINDS['insurer']}）：{applicant.get('name')}{covers}"
    role = applicant.get("label") if kind == "party" else APPLICANT_KINDS.get(kind or "")
    return f"申请人（{role or APPLICANT_KINDS['party']}）：{particulars(applicant)}"


def _applicants(data: dict[str, Any], s: Styles) -> list[Any]:
    return [paragraph(f"{_applicant(a)}。", s.plain) for a in data.get("applicants", [])]


def _terms(data: dict[str, Any], s: Styles) -> list[Any]:
    agreement = data.get("agreement") or {}
    return [
        paragraph(
            f"申请人于{chinese_date(agreement.get('signed_on'))}"
            f"经{data.get('committee') or '人民调解委员会'}"
            f"主持调解，就道路交通事故损害赔偿纠纷达成调解协议（协议编号：{data.get('case_number')}），"
            "主要内容如下：",
            s.body,
        ),
        amounts_table(data.get("payers", []), data["total"], s),
        Spacer(1, 2 * mm),
        paragraph(
            f"履行方式：{agreement.get('payment_method') or '—'}；"
            f"履行期限：{chinese_date(agreement.get('payment_due'))}前（含当日）。",
            s.body,
        ),
    ]


def _signatures(data: dict[str, Any], s: Styles) -> list[Any]:
    lines = [
        paragraph(f"审判员　{data.get('judge') or '—'}", s.plain),
        Spacer(1, 3 * mm),
        paragraph(chinese_date(data.get("date")), s.plain),
        Spacer(1, 3 * mm),
        paragraph(f"书记员　{data.get('clerk') or '＿' * 8}", s.plain),
    ]
    footer = Table([[seal_box("（人民法院印章）", s), lines]], colWidths=[90 * mm, 80 * mm])
    footer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [Spacer(1, 8 * mm), KeepTogether([footer])]


def render_ruling(data: dict[str, Any], font_path: str, *, copy_of: str | None = None) -> bytes:
    """The 民事裁定书 PDF (A4) confirming a settlement agreement; same data, same bytes.

    Headed by the court; the tribunal that examined the application is named in the text.
    With `copy_of` (the SHA-256 of the original's data) it is a copy (副本), as for
    `render_agreement`."""
    s = Styles(font_path)
    number = str(data.get("ruling_number") or "")
    court = data.get("court")
    tribunal = data.get("tribunal")
    examined = f"由{tribunal}依法进行了审查" if tribunal and tribunal != court else "依法进行了审查"
    flow: list[Any] = [
        paragraph(court, s.title),
        *masthead(s, f"{TITLE}（副本）" if copy_of else TITLE, number),
        *(copy_notice(s) if copy_of else []),
        *_applicants(data, s),
        Spacer(1, 2 * mm),
        paragraph(
            f"申请人于{chinese_date(data.get('requested_on'))}向本院申请司法确认调解协议，"
            f"本院于{chinese_date(data.get('accepted_on'))}受理后，{examined}。"
            "本案现已审查终结。",
            s.body,
        ),
        *_terms(data, s),
        paragraph(data.get("finding"), s.body),
        paragraph("裁定如下：", s.body),
        paragraph(f"{data['order']}。", s.body),
        paragraph("本裁定书自即日起发生法律效力。", s.body),
        *_signatures(data, s),
    ]
    return render(
        flow,
        s,
        title=TITLE,
        number=number,
        sha256=copy_of or canonical_json_sha256(data),
        data_label="原件裁定" if copy_of else "裁定",
        number_label="裁定书",
        author=court or "",
    )
