"""The monthly report (道交一体化工作月报) as a PDF: the report's data in, PDF bytes out.

The data is what `app.monthly_report.report_data` builds: the month, the body the report is
for, and one section per county among the month's cases plus the total, each holding the
figures of `app.stats.compute(...).as_json()` unchanged, so every number printed is the
dashboard's for the same filter. Charts are ReportLab drawings (no browser). The wording is
Chinese whatever the portal's language: the report goes to the committee on paper.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from app.documents.page import Styles, canonical_json_sha256, masthead, paragraph, render
from app.documents.tables import grid, header_row

TITLE = "道交一体化工作月报"
TOTAL = "合计"
CASE_LABELS = (
    ("received", "受理案件"),
    ("resolved", "调解化解"),
    ("confirmed", "司法确认"),
    ("litigation", "转入诉讼"),
    ("open", "未结案件"),
)
RATE_LABELS = (
    ("resolution_rate", "化解率", "化解率 = 调解化解 ÷ 受理案件"),
    (
        "mediation_success_rate",
        "调解成功率",
        "调解成功率 = 调解化解 ÷（调解化解 + 转入诉讼），未结案件不计",
    ),
)
AMOUNT_LABELS = (
    ("assessed", "核定金额（元）"),
    ("agreed", "协议金额（元）"),
    ("paid", "已赔付金额（元）"),
    ("agreed_to_assessed", "协议 ÷ 核定"),
)
INSURER_LABELS = (
    ("name", "保险机构"),
    ("cases", "案件"),
    ("first_offer_median_days", "首次报价中位天数"),
    ("offers_within_window", "调解期内报价"),
    ("payments_on_time", "按期赔付"),
    ("payments_late", "逾期赔付"),
    ("payments_unpaid_past_due", "逾期未付"),
    ("tribunal_rejections", "司法确认驳回"),
    ("agreed", "协议金额（元）"),
)
RECEIVED_COLOUR = colors.HexColor("#4e79a7")
RESOLVED_COLOUR = colors.HexColor("#59a14f")


def rate_text(rate: float | None) -> str:
    """A rate as a percentage with one decimal ("25.0%"); a dash when nothing to divide by."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def figure_text(value: Any) -> str:
    """A count, a day count or an amount as printed: as the figures give it, a dash for none."""
    return "—" if value is None else str(value)


def section_title(region: str | None) -> str:
    return region or TOTAL


def _pairs_table(rows: list[tuple[str, str]], s: Styles) -> Any:
    body = [[paragraph(label, s.cell), paragraph(value, s.cell_right)] for label, value in rows]
    return grid([header_row(("项目", "数值"), s), *body], [110 * mm, 60 * mm])


def _cases(figures: dict[str, Any], s: Styles) -> list[Any]:
    rows = [(label, figure_text(figures["cases"][key])) for key, label in CASE_LABELS]
    rows += [(label, rate_text(figures["rates"][key])) for key, label, _d in RATE_LABELS]
    return [paragraph("（一）案件情况", s.plain), _pairs_table(rows, s), Spacer(1, 2 * mm)]


def _cycle_time(figures: dict[str, Any], s: Styles) -> list[Any]:
    stages = figures["cycle_time"]["stages"]
    rows = [
        [
            paragraph(stage["label"], s.cell),
            paragraph(figure_text(stage["median_days"]), s.cell_right),
            paragraph(figure_text(stage["p90_days"]), s.cell_right),
            paragraph(figure_text(stage["cases"]), s.cell_right),
        ]
        for stage in stages
    ]
    table = grid(
        [header_row(("环节", "中位天数", "90% 分位天数", "案件"), s), *rows],
        [80 * mm, 30 * mm, 35 * mm, 25 * mm],
    )
    return [paragraph("（二）办理周期", s.plain), table, Spacer(1, 2 * mm)]


def _amounts(figures: dict[str, Any], s: Styles) -> list[Any]:
    rows = [(label, figure_text(figures["amounts"].get(key))) for key, label in AMOUNT_LABELS]
    return [paragraph("（三）金额", s.plain), _pairs_table(rows, s), Spacer(1, 2 * mm)]


def _insurers(figures: dict[str, Any], s: Styles) -> list[Any]:
    cards = figures["insurers"]
    if not cards:
        return [paragraph("（四）保险机构履职情况：本月无涉及保险机构的案件。", s.plain)]
    rows = [
        [paragraph(figure_text(card.get(key)), s.cell) for key, _label in INSURER_LABELS]
        for card in cards
    ]
    widths = [34 * mm, *([17 * mm] * (len(INSURER_LABELS) - 1))]
    table = grid([header_row((label for _k, label in INSURER_LABELS), s), *rows], widths)
    return [paragraph("（四）保险机构履职情况", s.plain), table, Spacer(1, 2 * mm)]


def _bar_chart(
    font: str, categories: list[str], series: list[tuple[str, list[float], Any]]
) -> Drawing:
    """A vertical bar chart of `series` (name, values, colour) over `categories`, with a legend."""
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 12 * mm
    chart.width, chart.height = 120 * mm, 52 * mm
    chart.data = [values for _name, values, _colour in series]
    chart.categoryAxis.categoryNames = categories
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for index, (_name, _values, colour) in enumerate(series):
        chart.bars[index].fillColor = colour
    legend = Legend()
    legend.x, legend.y = 138 * mm, 60 * mm
    legend.fontName = font
    legend.fontSize = 8
    legend.colorNamePairs = [(colour, name) for name, _values, colour in series]
    drawing.add(chart)
    drawing.add(legend)
    return drawing


def _charts(data: dict[str, Any], s: Styles) -> list[Any]:
    """Received against resolved per county, and the total's cycle time per stage."""
    counties = [section for section in data["sections"] if section["region"] is not None]
    total = next(section for section in data["sections"] if section["region"] is None)
    flow: list[Any] = [paragraph("图表", s.heading)]
    if counties:
        flow += [
            paragraph("图 1　各县区受理与化解案件数", s.plain),
            _bar_chart(
                s.font,
                [section["region"] for section in counties],
                [
                    (
                        "受理",
                        [c["figures"]["cases"]["received"] for c in counties],
                        RECEIVED_COLOUR,
                    ),
                    (
                        "化解",
                        [c["figures"]["cases"]["resolved"] for c in counties],
                        RESOLVED_COLOUR,
                    ),
                ],
            ),
        ]
    stages = total["figures"]["cycle_time"]["stages"]
    flow += [
        paragraph("图 2　各环节办理周期（天，合计）", s.plain),
        _bar_chart(
            s.font,
            [str(index + 1) for index in range(len(stages))],
            [
                ("中位", [stage["median_days"] or 0 for stage in stages], RECEIVED_COLOUR),
                ("90% 分位", [stage["p90_days"] or 0 for stage in stages], RESOLVED_COLOUR),
            ],
        ),
        paragraph(
            "环节："
            + "；".join(f"{index + 1}. {stage['label']}" for index, stage in enumerate(stages)),
            s.small,
        ),
    ]
    return flow


def render_monthly(data: dict[str, Any], font_path: str) -> bytes:
    """The monthly report of `data` (see `app.monthly_report.report_data`) as an A4 PDF; the
    footer prints the report's number and the SHA-256 of its data."""
    s = Styles(font_path)
    year, month = data["month"].split("-")
    number = f"{data['month']}-{data['body_key']}"
    flow: list[Any] = [
        *masthead(
            s,
            TITLE,
            f"{int(year)}年{int(month)}月",
            data["body"],
            f"统计期间：{data['from']} 至 {data['to']}（北京时间）",
        ),
        paragraph("口径说明", s.heading),
        *(paragraph(definition, s.small) for _k, _l, definition in RATE_LABELS),
        *(paragraph(data["definitions"][key], s.small) for key in ("received", "resolved")),
    ]
    for index, section in enumerate(data["sections"], start=1):
        figures = section["figures"]
        flow += [
            paragraph(f"{index}. {section_title(section['region'])}", s.heading),
            *_cases(figures, s),
            *_cycle_time(figures, s),
            *_amounts(figures, s),
            *_insurers(figures, s),
        ]
    flow += _charts(data, s)
    return render(
        flow,
        s,
        title=f"{TITLE} {data['month']}",
        number=number,
        sha256=canonical_json_sha256(data),
        data_label="月报",
        number_label="月报编号",
        author=data["body"],
    )
