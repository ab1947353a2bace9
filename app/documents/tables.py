"""The tables the documents share: a ruled grid, and the payers' amounts in figures and 大写."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from app.documents.page import Styles, paragraph
from app.money import amount_figures, amount_in_words


def header_row(texts: Iterable[str], s: Styles) -> list[Paragraph]:
    """A grid's header row."""
    return [paragraph(text, s.cell) for text in texts]


def grid(rows: list[list[Any]], widths: list[float], *, total_rows: int = 0) -> Table:
    """A ruled table with a grey header row (repeated on each page) and `total_rows` shaded
    rows at the bottom."""
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
    table.setStyle(TableStyle(commands))
    return table


def amounts_table(payers: Iterable[Mapping[str, Any]], total: Decimal | str, s: Styles) -> Table:
    """Each payer's amount (its `label` and `amount`) in figures and in 大写, and the total."""
    rows: list[list[Any]] = [header_row(["赔偿义务人", "赔偿金额（元）", "大写"], s)]
    for payer in payers:
        rows.append(
            [
                paragraph(payer.get("label"), s.cell),
                paragraph(amount_figures(payer["amount"]), s.cell_right),
                paragraph(f"人民币{amount_in_words(payer['amount'])}", s.cell),
            ]
        )
    rows.append(
        [
            paragraph("合计", s.cell),
            paragraph(amount_figures(total), s.cell_right),
            paragraph(f"人民币{amount_in_words(total)}", s.cell),
        ]
    )
    return grid(rows, [70 * mm, 32 * mm, 68 * mm], total_rows=1)


def seal_box(text: str, s: Styles) -> Table:
    """The square where the committee or the court stamps its seal, `text` naming whose."""
    seal = Table([[paragraph(text, s.seal)]], colWidths=[42 * mm], rowHeights=[42 * mm])
    seal.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return seal
