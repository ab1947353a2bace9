"""The oversight dashboard in headless Chromium (issue 16): `supervisor1` of the city filters the
figures by county and insurer, opens the cases behind a bar of the cases chart and downloads
the figures as a workbook whose numbers are the page's.

The world: a supervision organisation of 山西省吕梁市, and cases received this month (Beijing)
in two of its counties on two insurers, with different outcomes, plus a case of another city.
A supervisor sees the cases of its region and of the places within it (app/access.py,
`in_region`): the city's supervisor sees both counties' cases, not the other city's.

Each case's transitions are the workflow's audit events (as in tests/test_stats.py), appended
now: the default period, this month to today, holds them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from app import audit
from app.db import session
from app.models import CaseStatus, OrgKind
from tests import factories
from tests.support.browser import BrowserPage, serve
from tests.support.centre import Centre

pytestmark = pytest.mark.browser

CITY = "山西省吕梁市"
LISHI = "山西省吕梁市离石区"
ZHONGYANG = "山西省吕梁市中阳县"
ELSEWHERE = "山西省太原市小店区"
INSURER_NAME = "中国人民财产保险股份有限公司吕梁市分公司"
USERNAME = "supervisor1"

# Each case: its county, whether `insurer` (else `other_insurer`) insures it, its status now,
# and the workflow's events after the police confirmed it.
RESOLVED = ("agreement.signed",)
CONFIRMED = ("agreement.signed", "confirmation.requested", "confirmation.confirmed")
FAILED = ("claims.filed", "mediation.failed")
CASES = {
    "DJ-LS-0001": (LISHI, True, CaseStatus.AGREED, RESOLVED),
    "DJ-LS-0002": (LISHI, True, CaseStatus.CONFIRMED, CONFIRMED),
    "DJ-LS-0003": (LISHI, True, CaseStatus.LITIGATION, FAILED),
    "DJ-LS-0004": (LISHI, True, CaseStatus.NEGOTIATING, ()),
    "DJ-LS-0005": (LISHI, False, CaseStatus.AGREED, RESOLVED),
    "DJ-LS-0006": (LISHI, False, CaseStatus.NEGOTIATING, ()),
    "DJ-ZY-0001": (ZHONGYANG, True, CaseStatus.AGREED, RESOLVED),
    "DJ-ZY-0002": (ZHONGYANG, True, CaseStatus.LITIGATION, FAILED),
    "DJ-ZY-0003": (ZHONGYANG, False, CaseStatus.REPORTED, ()),
    "DJ-TY-0001": (ELSEWHERE, True, CaseStatus.AGREED, RESOLVED),  # not the supervisor's
}
# What the supervisor sees: every case of the city; then 离石区 on `insurer` only.
ALL_COUNTS = {"received": 9, "resolved": 4, "confirmed": 1, "litigation": 2, "open": 3}
FILTERED_COUNTS = {"received": 4, "resolved": 2, "confirmed": 1, "litigation": 1, "open": 1}
FILTERED_RESOLVED = {"DJ-LS-0001", "DJ-LS-0002"}


@dataclass
class World:
    url: str
    insurer_id: int


def _build(app: Flask) -> int:
    """The centre, its two counties' committees, the city's supervisor and the cases above;
    the id of the insurer the test filters by."""
    centre = Centre(app, insurer_name=INSURER_NAME)
    centre.committee.region = LISHI
    centre.other_committee.region = ZHONGYANG
    supervision = factories.make_org(OrgKind.SUPERVISION, "吕梁市委政法委", region=CITY)
    factories.make_user(supervision, USERNAME)
    committees = {LISHI: centre.committee, ZHONGYANG: centre.other_committee}
    for number, (region, ours, status, events) in CASES.items():
        case = factories.make_case(
            police=centre.police_org,
            status=status,
            insurer=centre.insurer if ours else centre.other_insurer,
            committee=committees.get(region),
            region=region,
            number=number,
        )
        for action in ("case.created", "case.confirmed", *events):
            audit.record(action, actor=None, case_id=case.id)
    session.commit()
    return centre.insurer.id


@pytest.fixture
def world(committed_app: Callable[..., Flask]) -> Iterator[World]:
    app = committed_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        insurer_id = _build(app)
    with serve(app) as url:
        yield World(url=url, insurer_id=insurer_id)


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def expect_counts(page: Page, counts: dict[str, int]) -> None:
    for figure, count in counts.items():
        expect(page.get_by_test_id(f"figure-{figure}")).to_have_text(str(count))


# The outline (`d`) of the SVG path ECharts drew for bar `index` of the cases chart, once its
# animations are over: the element just inside the bar's top, where ECharts puts the bar's
# value (`convertToPixel`). Hovering a bar moves its path among the others: found by outline.
BAR_OUTLINE = """([index, value]) => {
    const element = document.querySelector('[data-chart="cases"]');
    const chart = echarts.getInstanceByDom(element);
    if (!chart.getZr().animation.isFinished()) { return null; }
    const [x, y] = chart.convertToPixel({seriesIndex: 0}, [index, value]);
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + x, box.top + y + 2);
    return hit && hit.tagName === 'path' && element.contains(hit) ? hit.getAttribute('d') : null;
}"""


def bar(page: Page, figure: str, counts: dict[str, int]) -> Locator:
    """The SVG path of `figure`'s bar in the cases chart (the bars follow the cases table's rows,
    in the order of `counts`)."""
    chart = page.locator('[data-chart="cases"]')
    chart.scroll_into_view_if_needed()
    index = list(counts).index(figure)
    outline = page.wait_for_function(BAR_OUTLINE, arg=[index, counts[figure]]).json_value()
    return chart.locator(f'svg path[d="{outline}"]')


def test_supervisor_filters_opens_a_bars_cases_and_downloads_the_figures(
    world: World, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    log_in(page, world.url)
    page.goto(world.url + "/stats/")
    expect(page.get_by_role("heading", level=1)).to_have_text("统计")
    expect_counts(page, ALL_COUNTS)  # the city's counties, not the other city's case

    form = page.get_by_test_id("stats-filters")
    form.get_by_label("区县").select_option(LISHI)
    form.get_by_label("保险公司").select_option(str(world.insurer_id))
    form.get_by_role("button", name="显示").click()
    expect(page).to_have_url(re.compile(rf"region=.+&insurer={world.insurer_id}"))
    expect_counts(page, FILTERED_COUNTS)
    expect(page.get_by_test_id("cases-chart-hint")).to_be_visible()

    chart = page.locator('[data-chart="cases"]')
    expect(chart.locator("svg")).to_be_visible()
    resolved_bar = bar(page, "resolved", FILTERED_COUNTS)
    # The bar opens the list its count links to (the link keyboard users follow).
    count_link = page.get_by_test_id("figure-resolved").get_by_role("link")
    list_url = world.url + (count_link.get_attribute("href") or "")
    # Off the bar's middle, where the tooltip's axis pointer (a line) is drawn on hover.
    inside = {"x": 20, "y": 20}
    resolved_bar.hover(position=inside)  # ECharts sets the cursor; the path inherits it
    expect(resolved_bar).to_have_css("cursor", "pointer")
    resolved_bar.click(position=inside)

    expect(page).to_have_url(list_url)
    assert "figure=resolved" in list_url
    expect(page.get_by_test_id("figure-filter")).to_be_visible()
    numbers = page.get_by_test_id("case-list").locator("tbody tr td:first-child")
    expect(numbers).to_have_count(len(FILTERED_RESOLVED))
    assert set(numbers.all_inner_texts()) == FILTERED_RESOLVED

    page.go_back()
    expect_counts(page, FILTERED_COUNTS)
    with page.expect_download() as download_info:
        page.get_by_test_id("xlsx-all").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = load_workbook(BytesIO(download.path().read_bytes()))
    filters = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert filters["region"] == LISHI
    assert filters["insurer"] == str(world.insurer_id)
    # The cases sheet: the table view's rows, each label with the count the page shows.
    shown = page.get_by_test_id("table-cases").locator("tbody tr")
    page_rows = [row.locator("td").all_text_contents() for row in shown.all()]
    sheet_rows = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert [[label, str(count)] for label, count in sheet_rows] == page_rows
    received = int(page.get_by_test_id("figure-received").inner_text())
    assert sheet_rows[0][1] == received == FILTERED_COUNTS["received"]

    browser_page.check_clean()  # the chart's tooltip, shown on hover, included
