"""The late-payment referral (监管提示函) as a PDF: referral data in, PDF bytes out.

The data is what `app.services.referrals` builds (its SHA-256 is printed in every page's
footer with the referral number). Chinese whatever the portal's language: it is a letter from
one public body to another. The legal basis is 交强险条例 art. 29 (DOMAIN.md §1: pay within 10
days of the agreement).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from app.documents.page import Styles, canonical_json_sha256, masthead, paragraph, render
from app.documents.tables import grid, header_row
from app.documents.wording import chinese_date
from app.money import amount_figures

# 《机动车交通事故责任强制保险条例》第二十九条, the part about paying (DOMAIN.md §1).
LEGAL_BASIS = (
    "《机动车交通事故责任强制保险条例》第二十九条规定：对属于保险责任的，"
    "在与被保险人达成赔偿保险金的协议后10日内，赔偿保险金。"
)


def referral_title(insurer: str) -> str:
    """关于…保险公司未按期支付赔偿保险金的监管提示函."""
    return f"关于{insurer}未按期支付赔偿保险金的监管提示函"


def _items_table(data: dict[str, Any], s: Styles) -> Any:
    rows: list[list[Any]] = [
        header_row(["案号", "赔偿义务人", "协议金额（元）", "应付日期", "逾期天数", "支付情况"], s)
    ]
    for item in data["items"]:
        paid = f"{chinese_date(item['paid_on'])}支付" if item.get("paid_on") else "未支付"
        rows.append(
            [
                paragraph(item["case_number"], s.cell),
                paragraph(item["payer"], s.cell),
                paragraph(amount_figures(item["amount"]), s.cell_right),
                paragraph(chinese_date(item["due"]), s.cell),
                paragraph(str(item["days_late"]), s.cell_right),
                paragraph(paid, s.cell),
            ]
        )
    rows.append(
        [
            paragraph("合计", s.cell),
            paragraph("", s.cell),
            paragraph(amount_figures(data["total"]), s.cell_right),
            paragraph("", s.cell),
            paragraph("", s.cell),
            paragraph(f"{len(data['items'])}笔", s.cell),
        ]
    )
    widths = [38 * mm, 30 * mm, 28 * mm, 28 * mm, 18 * mm, 28 * mm]
    return grid(rows, widths, total_rows=1)


def render_referral(data: dict[str, Any], font_path: str) -> bytes:
    """The 监管提示函 PDF (A4) addressed to the regulator; same data, same bytes."""
    s = Styles(font_path)
    number = str(data["number"])
    title = referral_title(data["insurer"])
    flow: list[Any] = [
        *masthead(s, title, number),
        paragraph(f"{data['regulator']}：", s.plain),
        Spacer(1, 2 * mm),
        paragraph(
            f"经道路交通事故损害赔偿纠纷一体化处理平台核查，{data['insurer']}在下列"
            f"{len(data['items'])}起案件中，未在法定期限内支付已达成协议的赔偿保险金"
            f"（截至{chinese_date(data['date'])}）：",
            s.body,
        ),
        _items_table(data, s),
        Spacer(1, 3 * mm),
        paragraph(LEGAL_BASIS, s.body),
        paragraph("现将上述情况函告贵局，请依法予以关注并督促该公司及时履行赔付义务。", s.body),
        Spacer(1, 8 * mm),
        paragraph(data["issuer"], s.plain),
        paragraph(chinese_date(data["date"]), s.plain),
    ]
    return render(
        flow,
        s,
        title=title,
        number=number,
        sha256=canonical_json_sha256(data),
        data_label="提示函",
        number_label="编号",
        author=data["issuer"],
    )
