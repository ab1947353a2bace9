"""Synthetic 道路交通事故认定书 PDFs, each with the parse we expect from it.

`make_report(variant, seed)` draws a report with reportlab and the embedded CJK TrueType font and
returns `(pdf_bytes, expected)`, where `expected` is the parser output minus `provenance`.
`make_scan(variant, seed)` prints and scans one (an image-only PDF; expected gets
`"source": "ocr"`). `make_bad(kind)` returns a file the parser must refuse; `BAD_CODES` names the
error code for each. Everything is deterministic for a seed (reportlab's invariant mode fixes
dates and ids).

Expected answers follow INTERFACES.md §2 and the conventions of shared/corpus/reports/README.md:
`commercial_limit` in yuan as digits (`100万元` → "1000000"); `facts`, `cause` and
`liability_text` without whitespace and without the plates' `·`; `liability_text` is the body
under the liability heading (null on certificates and on the old `simple` form, whose facts and
liability share one cell); `label` only where the letter uses 甲方/乙方 (or 当事人甲); `gender`
null on simple forms; `plate` without separator, null for e-bikes, pedestrians, passengers and
unknown plates; `vehicle_type` only for a party who drives. The extra keys `accident_date`,
`year`, `accident_form`, `cause`, `license_no`, `age`, `address`, `owner` and `warnings` keep
their old meaning.

Variants (names, IDs with valid check digits, plates, insurers, places, times, liabilities and
label wording vary with the seed):

* general_table: general procedure, ruled key-value tables, two cars, a commercial policy;
* general_prose: general procedure, parties in paragraphs, three parties, facts running onto
  page 2, Chinese-numeral dates; sometimes a running head and a frame around each page;
* simple: 简易程序 one-page form, a header row over one row per party, 事故形态;
* pedestrian: a car and a pedestrian (步行: no plate, no insurer), table or prose;
* ebike: four parties, two on e-bikes, one column per party (项目 | 甲方 | 乙方 …);
* libreoffice: a space between every character, plates with ・, ID numbers wrapped in
  narrow cells;
* legacy: no unit name on top, padded labels (天　　气), a table ruled with single strokes,
  甲：/乙： paragraphs, 上午/下午 times, unit and date on the seal line.

The 2017 templates, set the way LibreOffice, Chromium or reportlab would (see `Letter`):

* official_prose: 一般程序 认定书 with the template's headings; parties as `当事人王某，…`,
  `当事人：王某（驾驶人），…`, `1.当事人…` or `甲方：…`; cars, trucks with trailers,
  motorcycles, e-bikes, pedestrians, passengers, uninsured cars, `投保交强险`, company owners,
  new-energy plates. Quirks by seed: justified lines spaced out character by character,
  CJK↔Latin autospacing, ID and policy numbers cut at a line end, footers (`第1页 共2页`,
  `第 1 页`, `- 1 -`, `1/2`, `第1页，共2页`) inside the facts or liability paragraph that
  crosses the page, a heading ending page 1, Chinese-numeral dates, 上午/下午/凌晨, times on
  the hour (`19时许`, `18时`), Kangxi / CJK-radical code points in the text layer, the unit
  named only in the seal (issuer null), a red seal over the issue date;
* certificate: 道路交通事故证明 (第六十七条, no liability section; liability null);
* hit_and_run: even seeds a driver nobody found (`肇事车辆驾驶人：身份不明…（号牌不详）`),
  odd seeds a driver who fled and was caught (`于…被公安机关查获`);
* simple_row_table: 简易程序 form, one row per party in 8 narrow columns (numbers, insurers
  and labels wrap inside cells), 当事人责任 and 调解结果 cells, signatures as images;
* simple_block_grid: 简易程序 block form, 3–4 rows per party (optional 商业三者险 row);
* word_table_parties: general letter whose parties are a key/value Word table, four parties
  with an e-bike rider and passenger, `/` for empty values.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import random
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

import reportlab.rl_config
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

reportlab.rl_config.invariant = 1

FONT = "WenQuanYiZenHei"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

VARIANTS = (
    "general_table",
    "general_prose",
    "simple",
    "pedestrian",
    "ebike",
    "libreoffice",
    "legacy",
    "official_prose",
    "certificate",
    "hit_and_run",
    "simple_row_table",
    "simple_block_grid",
    "word_table_parties",
)
BAD_KINDS = (
    "scan",
    "encrypted",
    "truncated",
    "garbled",
    "png",
    "docx",
    "empty",
    "invoice",
    "bomb",
    "oversize",
)
# Mistakes a real report may carry; each must come back as a warning, never as a guess.
FAULTS = ("bad_id", "bad_plate", "odd_liability", "bad_time", "scan_page")
BAD_CODES = {
    "scan": "no_text_layer",
    "encrypted": "encrypted",
    "truncated": "damaged",
    "garbled": "damaged",
    "png": "not_pdf",
    "docx": "not_pdf",
    "empty": "not_pdf",
    "invoice": "not_a_report",
    "bomb": "too_large",
    "oversize": "too_large",
}

PAGE_W, PAGE_H = A4
MARGIN = 50.0
TEXT_W = PAGE_W - 2 * MARGIN

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许傅沈彭苏卢蒋蔡贾魏薛叶"
    "阎潘杜戴任姜范石姚谭邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟段雷钱汤尹武乔贺"
)
# No 甲乙丙丁, 男, 女 or 方: given names must not look like party labels or a sex.
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚建华志文红玉梅海燕春雪峰鹏辉宇浩凯鑫晨欣佳"
ISSUERS = (
    ("吕梁市公安局交通警察支队离石大队", "吕公交认字", "141102"),
    ("吕梁市公安局交通警察支队城区大队", "吕公交认字", "141102"),
    ("孝义市公安局交通警察大队", "孝公交认字", "141181"),
    ("汾阳市公安局交通警察大队", "汾公交认字", "141182"),
    ("交城县公安局交通警察大队", "交公交认字", "141122"),
    ("文水县公安局交通警察大队", "文公交认字", "141121"),
    ("中阳县公安局交通警察大队", "中公交认字", "141129"),
)
REGION_CODES = ("141102", "141121", "141122", "141124", "141125", "141181", "141182", "142301")
INSURERS = (
    "中国人民财产保险股份有限公司吕梁市分公司",
    "中国平安财产保险股份有限公司吕梁中心支公司",
    "中国太平洋财产保险股份有限公司吕梁中心支公司",
    "中华联合财产保险股份有限公司吕梁中心支公司",
    "中国人寿财产保险股份有限公司吕梁市中心支公司",
    "阳光财产保险股份有限公司吕梁中心支公司",
)
ROADS = (
    "滨河北西路",
    "滨河北中路",
    "龙凤大街",
    "永宁中路",
    "北川河东路",
    "吕梁大道",
    "凤山路",
    "久安路",
    "学院路",
    "世纪大道",
    "向阳路",
)
DISTRICTS = ("离石区", "孝义市", "汾阳市", "交城县", "文水县", "中阳县")
TOWNS = ("凤山街道", "莲花池街道", "滨河街道", "城北街道", "信义镇", "吴城镇", "西属巴街道")
VILLAGES = ("前进村", "东关村", "马茂庄村", "田家会村", "交口村", "红眼川村", "安国寺村")
WEATHERS = ("晴", "阴", "多云", "小雨", "雨", "雪", "雾")
CARS = (
    ("小型轿车", "C1"),
    ("小型普通客车", "C1"),
    ("轻型普通货车", "C1"),
    ("重型半挂牵引车", "A2"),
    ("小型越野客车", "C1"),
    ("中型普通客车", "B1"),
)
FORMS = ("追尾碰撞", "侧面碰撞", "正面碰撞", "刮擦", "刮撞行人")
GRADE_WORD = {"full": "全部", "main": "主要", "equal": "同等", "minor": "次要", "odd": "相应"}
LIABILITY_SETS = {
    2: (
        ("full", "none"),
        ("main", "minor"),
        ("equal", "equal"),
        ("none", "full"),
        ("minor", "main"),
    ),
    3: (("main", "minor", "none"), ("full", "none", "none"), ("equal", "equal", "none")),
    4: (("main", "minor", "minor", "none"), ("full", "none", "none", "none")),
}
LABEL_CHARS = "甲乙丙丁"
ZH_DIGITS = "〇一二三四五六七八九"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ROAD_ENV = (
    "事故路段为城市道路，沥青路面，双向四车道，中间设有隔离护栏，路面干燥，视线良好。",
    "事故地点为十字交叉路口，设有交通信号灯，路面平坦干燥，照明条件良好。",
    "事故路段为国道，水泥路面，双向两车道，路面潮湿，无路灯照明。",
)

_registered = False


def _register_font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
        _registered = True


# --- values --------------------------------------------------------------------------------


def id_check_char(first17: str) -> str:
    """GB 11643 mod 11-2 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def zh_year(year: int) -> str:
    """2024 → 二〇二四."""
    return "".join(ZH_DIGITS[int(d)] for d in str(year))


def zh_number(n: int) -> str:
    """0..59 written the Chinese way (十, 十二, 二十, 三十五)."""
    if n < 10:
        return "零" if n == 0 else ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else ZH_DIGITS[tens] + "十"
    return head + (ZH_DIGITS[ones] if ones else "")


def zh_date(d: dt.date) -> str:
    """A date in Chinese numerals: 二〇二四年三月十八日."""
    return f"{zh_year(d.year)}年{zh_number(d.month)}月{zh_number(d.day)}日"


def date_text(d: dt.date, style: str) -> str:
    """A date as a report would print it in the given style."""
    if style == "zh":
        return zh_date(d)
    if style == "iso":
        return d.isoformat()
    if style == "padded":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    return f"{d.year}年{d.month}月{d.day}日"


def time_text(t: dt.datetime, style: str) -> str:
    """The accident time as a report would print it in the given style."""
    if style == "zh":
        return f"{zh_date(t.date())}{zh_number(t.hour)}时{zh_number(t.minute)}分"
    if style == "iso":
        return f"{t.date().isoformat()} {t.hour:02d}:{t.minute:02d}"
    if style == "padded":
        return f"{date_text(t.date(), 'padded')}{t.hour:02d}时{t.minute:02d}分"
    if style == "about":
        return f"{date_text(t.date(), 'plain')}{t.hour}时{t.minute}分许"
    if style == "noon":
        noon, hour = ("上午", t.hour) if t.hour < 12 else ("下午", t.hour - 12 or 12)
        return f"{date_text(t.date(), 'plain')}{noon}{hour}时{t.minute}分"
    return f"{date_text(t.date(), 'plain')}{t.hour}时{t.minute}分"


def plate_text(plate: str, sep: str) -> str:
    """A plate as printed, with the separator after the office letter."""
    return plate[:2] + sep + plate[2:]


def limit_text(amount: Decimal, style: str) -> str:
    """An amount of cover as printed (100万元, 1000000元, 100万)."""
    wan = amount / 10000
    if style == "yuan":
        return f"{int(amount)}元"
    if style == "wan":
        return f"{int(wan)}万"
    return f"{int(wan)}万元"


@dataclass
class Party:
    """One party as the police wrote it down, plus how it is printed."""

    char: str
    name: str
    gender: str
    birth: dt.date
    age: int
    id_number: str
    phone: str
    address: str
    kind: str  # car | ebike | walk
    vehicle_type: str | None
    plate: str | None
    license_no: str | None
    license_class: str | None
    owner: str | None
    ctpi_insurer: str | None
    ctpi_policy_no: str | None
    commercial_insurer: str | None
    commercial_limit: Decimal | None
    liability: str | None

    @property
    def label(self) -> str:
        """甲方, 乙方, …"""
        return self.char + "方"

    @property
    def traffic_mode(self) -> str:
        """步行, or 驾驶 and the vehicle type."""
        return "步行" if self.kind == "walk" else "驾驶" + (self.vehicle_type or "")


@dataclass
class Report:
    """The facts of one accident and the printing choices of one report."""

    rng: random.Random
    issuer: str
    document_no: str
    year: int | None
    time: dt.datetime
    issue: dt.date
    location: str
    weather: str
    parties: list[Party]
    officers: tuple[str, str]
    road_env: str
    sep: str
    time_style: str
    time_override: str | None
    issue_style: str
    limit_style: str
    facts: str = ""
    cause: str = ""
    liability_text: str = ""
    faults: tuple[str, ...] = ()
    planted: list = field(default_factory=list)


class Names:
    """Distinct person names, none a substring of another."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: list[str] = []

    def __call__(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if all(name not in other and other not in name for other in self.used):
                self.used.append(name)
                return name


def _plate(rng: random.Random) -> str:
    alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    if rng.random() < 0.2:  # new-energy plates have six characters after the city letter
        return "晋J" + rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
    tail = "".join(rng.choice(alnum) for _ in range(4)) + rng.choice("0123456789")
    return "晋" + rng.choice("JJJA") + tail


def _policy(rng: random.Random, year: int) -> str:
    prefix = rng.choice(("PDZA", "ADZA", "AQLI", "PDAA"))
    return prefix + str(year) + "".join(rng.choice("0123456789") for _ in range(14))


def _party(rng: random.Random, names: Names, char: str, kind: str, year: int) -> Party:
    gender = rng.choice("男女")
    birth = dt.date(rng.randint(1955, 2003), rng.randint(1, 12), rng.randint(1, 28))
    seq = rng.randint(0, 99) * 10 + (rng.choice((1, 3, 5, 7, 9)) if gender == "男" else 0)
    first17 = rng.choice(REGION_CODES) + birth.strftime("%Y%m%d") + f"{seq:03d}"
    id_number = first17 + id_check_char(first17)
    name = names()
    address = (
        f"山西省吕梁市{rng.choice(DISTRICTS)}{rng.choice(TOWNS)}{rng.choice(VILLAGES)}"
        f"{rng.randint(1, 199)}号"
    )
    vehicle_type = plate = license_no = license_class = owner = None
    ctpi = ctpi_no = commercial = None
    limit = None
    if kind == "car":
        vehicle_type, license_class = rng.choice(CARS)
        plate = _plate(rng)
        license_no = id_number
        owner = rng.choice((name, name, f"吕梁市{rng.choice('宏安鑫泰通达')}运输有限公司"))
        ctpi = rng.choice(INSURERS)
        ctpi_no = _policy(rng, year) if rng.random() < 0.8 else None
        if rng.random() < 0.6:
            commercial = rng.choice((ctpi, rng.choice(INSURERS)))
            limit = Decimal(rng.choice((50, 100, 150, 200, 300)) * 10000)
    elif kind == "ebike":
        vehicle_type = "电动自行车"
    age = year - birth.year
    return Party(
        char=char,
        name=name,
        gender=gender,
        birth=birth,
        age=age,
        id_number=id_number,
        phone="1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9)),
        address=address,
        kind=kind,
        vehicle_type=vehicle_type,
        plate=plate,
        license_no=license_no,
        license_class=license_class,
        owner=owner,
        ctpi_insurer=ctpi,
        ctpi_policy_no=ctpi_no,
        commercial_insurer=commercial,
        commercial_limit=limit,
        liability=None,
    )


def _report(seed: int, kinds: list[str], faults: tuple[str, ...]) -> Report:
    rng = random.Random(seed)
    issuer, prefix, _ = rng.choice(ISSUERS)
    time = dt.datetime(
        rng.randint(2021, 2025),
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(0, 23),
        rng.choice((0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)),
    )
    issue = time.date() + dt.timedelta(days=rng.randint(3, 10))
    number = rng.randint(1, 2999)
    left, right = rng.choice((("〔", "〕"), ("[", "]"), ("［", "］"), ("【", "】")))
    document_no = f"{prefix}{left}{time.year}{right}第{number:05d}号"
    names = Names(rng)
    parties = [_party(rng, names, LABEL_CHARS[i], kind, time.year) for i, kind in enumerate(kinds)]
    for party, grade in zip(parties, rng.choice(LIABILITY_SETS[len(parties)]), strict=True):
        party.liability = grade
    if rng.random() < 0.5:
        location = f"吕梁市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}与{rng.choice(ROADS)}交叉口"
    else:
        location = (
            f"G{rng.choice((209, 307, 340))}线{rng.randint(100, 999)}公里+{rng.randint(1, 9)}00米处"
        )
    report = Report(
        rng=rng,
        issuer=issuer,
        document_no=document_no,
        year=time.year,
        time=time,
        issue=issue,
        location=location,
        weather=rng.choice(WEATHERS),
        parties=parties,
        officers=(names(), names()),
        road_env=rng.choice(ROAD_ENV),
        sep=rng.choice(("·", "", "・")),
        time_override=None,
        time_style=rng.choice(("plain", "padded", "iso", "about")),
        issue_style=rng.choice(("plain", "zh", "iso")),
        limit_style=rng.choice(("wanyuan", "yuan", "wan")),
    )
    report.faults = faults
    report.planted = _plant_faults(report)
    return report


# --- narrative -----------------------------------------------------------------------------


def _accident_time(r: Report) -> str:
    return r.time_override or time_text(r.time, r.time_style)


def _action(r: Report, p: Party) -> str:
    if p.kind == "walk":
        return "步行"
    if p.plate:
        return f"驾驶{plate_text(p.plate, r.sep)}号{p.vehicle_type}"
    return f"驾驶{p.vehicle_type}"


def _facts(r: Report, *, long: bool) -> str:
    rng = r.rng
    p0, *others = r.parties
    start = time_text(r.time, "plain")
    text = (
        f"{start}许，{p0.name}{_action(r, p0)}沿{rng.choice(ROADS)}由南向北行驶至"
        f"{r.location}时，与{others[0].name}{_action(r, others[0])}发生碰撞"
    )
    for p in others[1:]:
        text += f"，后又与{p.name}{_action(r, p)}相撞"
    text += f"，造成{others[0].name}受伤、车辆损坏的道路交通事故。"
    fillers = [
        f"事故发生后，{p0.name}拨打122报警，民警接警后迅速赶赴现场进行勘查，"
        "并对现场进行了拍照、测量和绘图。",
        f"伤者{others[0].name}被送往吕梁市人民医院救治，经诊断为左胫腓骨骨折、头皮裂伤。",
        f"经现场勘查，事故现场位于{r.location}，{r.road_env}",
        "经调查走访，事故发生时该路段车流量较大，事故现场周边未设置监控设备。",
        f"经对{p0.name}进行呼气式酒精检测，结果为0mg/100ml，排除酒后驾驶嫌疑。",
        "经委托山西某司法鉴定中心对事故车辆进行技术检验，车辆制动、转向及灯光性能均符合安全技术标准。",
        "民警调取了事故现场附近的监控视频，并对当事人及证人进行了询问，制作了询问笔录。",
    ]
    if long:
        while len(text) < 1300:
            text += fillers[len(text) % len(fillers)] if len(text) % 2 else rng.choice(fillers)
    else:
        text += rng.choice(fillers)
    return text


def _cause(r: Report) -> str:
    parts = [
        "上述事实有以下证据证实：1.当事人陈述材料；2.证人证言；3.现场勘查笔录及现场图；"
        "4.现场照片；5.车辆技术检验报告。"
    ]
    for p in r.parties:
        if p.liability in ("full", "main", "equal"):
            parts.append(
                f"{p.name}驾驶机动车未按规定让行，违反了《中华人民共和国道路交通安全法》"
                "第二十二条第一款之规定，是造成此事故的主要原因。"
            )
        elif p.liability == "minor":
            parts.append(f"{p.name}未确保安全通行，是造成此事故的次要原因。")
    return "".join(parts)


def _liability(r: Report, style: str) -> str:
    clauses = []
    if style == "label":
        for p in r.parties:
            if p.liability == "none":
                clauses.append(f"{p.label}无责任")
            else:
                clauses.append(f"{p.label}负{GRADE_WORD[p.liability]}责任")
        return "，".join(clauses) + "。"
    if style == "combined" and len({p.liability for p in r.parties}) < len(r.parties):
        groups: dict[str, list[str]] = {}
        for p in r.parties:
            groups.setdefault(p.liability or "", []).append(p.name)
        for grade, names in groups.items():
            who = "、".join(names)
            if grade == "none":
                clauses.append(f"{who}不负此事故责任")
            else:
                clauses.append(f"{who}负此事故的{GRADE_WORD[grade]}责任")
        return "；".join(clauses) + "。"
    for p in r.parties:
        if p.liability == "none":
            clauses.append(
                f"当事人{p.name}无责任" if style == "reason" else f"{p.name}无此事故责任"
            )
        elif style == "reason":
            clauses.append(
                f"{p.name}的过错行为是造成此事故的原因之一，"
                f"应承担此事故的{GRADE_WORD[p.liability]}责任"
            )
        else:
            clauses.append(f"{p.name}负此事故的{GRADE_WORD[p.liability]}责任")
    return "；".join(clauses) + "。"


NOTICE = (
    "注：当事人对本认定书有异议的，可以自本认定书送达之日起三日内，向上一级公安机关交通管理部门"
    "提出书面复核申请。复核申请应当载明复核请求及其理由和主要证据。"
)


# --- drawing -------------------------------------------------------------------------------


NO_LINE_START = "，。；：、）》”％"


class Sheet:
    """A tiny page-layout engine on a reportlab canvas: lines, wrapped paragraphs, ruled tables."""

    def __init__(
        self,
        *,
        spaced: bool = False,
        footer: str | None = None,
        header: str | None = None,
        centre_cells: bool = False,
        ruled_with_lines: bool = False,
        frame: bool = False,
        scan_page: bool = False,
        encrypt: object = None,
    ) -> None:
        _register_font()
        self.buf = io.BytesIO()
        self.canvas = canvas.Canvas(self.buf, pagesize=A4, invariant=1, encrypt=encrypt)
        self.spaced = spaced
        self.footer = footer
        self.header = header  # repeated at the top of every page after the first
        self.centre_cells = centre_cells  # Word-style tables: short cells centred
        self.ruled_with_lines = ruled_with_lines  # borders as separate strokes, not rectangles
        self.frame = frame  # a box around the text area of every page
        self.scan_page = scan_page  # end with a scanned attachment: an image, no text
        self.page = 1
        self.y = PAGE_H - MARGIN

    def prep(self, text: str) -> str:
        """The text as this sheet prints it (spaced out in LibreOffice style)."""
        return " ".join(text.replace(" ", "")) if self.spaced else text

    def width(self, text: str, size: float) -> float:
        """Printed width of `text` in points."""
        return pdfmetrics.stringWidth(text, FONT, size)

    def wrap(self, text: str, width: float, size: float, indent: float = 0) -> list[str]:
        """Lines of at most `width` points, breaking between any two characters."""
        text = self.prep(text)
        lines: list[str] = []
        current = ""
        avail = width - indent
        for ch in text:
            if current and self.width(current + ch, size) > avail and ch not in NO_LINE_START:
                lines.append(current.rstrip())
                current = "" if ch == " " else ch
                avail = width
            else:
                current += ch
        if current.strip():
            lines.append(current.rstrip())
        return lines or [""]

    def _frame(self) -> None:
        if self.frame:
            self.canvas.setLineWidth(1.2)
            self.canvas.rect(MARGIN - 8, MARGIN - 8, TEXT_W + 16, PAGE_H - 2 * MARGIN + 16)

    def new_page(self) -> None:
        """Finish the page (footer) and start the next one (header)."""
        self._frame()
        if self.footer:
            self.canvas.setFont(FONT, 9)
            self.canvas.drawCentredString(PAGE_W / 2, 30, self.prep(self.footer % self.page))
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN
        if self.header:
            self.canvas.setFont(FONT, 9)
            self.canvas.drawCentredString(PAGE_W / 2, PAGE_H - 30, self.prep(self.header))

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` points still fit on this one."""
        if self.y - height < MARGIN:
            self.new_page()

    def gap(self, height: float) -> None:
        """Vertical space."""
        self.y -= height

    def line(self, text: str, size: float = 10.5, align: str = "left") -> None:
        """One line of text, aligned left, centre or right."""
        text = self.prep(text)
        leading = size * 1.6
        self.ensure(leading)
        self.canvas.setFont(FONT, size)
        base = self.y - size
        if align == "center":
            self.canvas.drawCentredString(PAGE_W / 2, base, text)
        elif align == "right":
            self.canvas.drawRightString(PAGE_W - MARGIN, base, text)
        else:
            self.canvas.drawString(MARGIN, base, text)
        self.y -= leading

    def para(self, text: str, size: float = 10.5, indent: int = 2) -> None:
        """A wrapped paragraph with a first-line indent of `indent` characters."""
        leading = size * 1.6
        lines = self.wrap(text, TEXT_W, size, indent * size)
        self.canvas.setFont(FONT, size)
        for i, line in enumerate(lines):
            self.ensure(leading)
            self.canvas.setFont(FONT, size)
            x = MARGIN + (indent * size if i == 0 else 0)
            self.canvas.drawString(x, self.y - size, line)
            self.y -= leading

    def table(
        self, rows: list[list[tuple[str, int]]], widths: list[float], size: float = 10
    ) -> None:
        """Ruled table; a cell is (text, colspan); text is centred vertically in its row."""
        pad = 3.0
        leading = size * 1.35
        for row in rows:
            cells = []
            col = 0
            for text, span in row:
                x = MARGIN + sum(widths[:col])
                w = sum(widths[col : col + span])
                cells.append((x, w, self.wrap(text, w - 2 * pad, size)))
                col += span
            height = max(len(lines) for _, _, lines in cells) * leading + 2 * pad
            self.ensure(height)
            self.canvas.setLineWidth(0.6)
            self.canvas.setFont(FONT, size)
            for x, w, lines in cells:
                if self.ruled_with_lines:
                    y0, y1 = self.y - height, self.y
                    for xa, ya, xb, yb in (
                        (x, y0, x + w, y0),
                        (x, y1, x + w, y1),
                        (x, y0, x, y1),
                        (x + w, y0, x + w, y1),
                    ):
                        self.canvas.line(xa, ya, xb, yb)
                else:
                    self.canvas.rect(x, self.y - height, w, height)
                top = self.y - (height - len(lines) * leading) / 2
                for i, line in enumerate(lines):
                    base = top - i * leading - size * 1.05
                    if self.centre_cells and len(lines) == 1:
                        self.canvas.drawCentredString(x + w / 2, base, line)
                    else:
                        self.canvas.drawString(x + pad, base, line)
            self.y -= height

    def finish(self) -> bytes:
        """The PDF bytes."""
        if self.scan_page:
            self.new_page()
            image = ImageReader(io.BytesIO(_png("询问笔录")))
            self.canvas.drawImage(image, MARGIN, PAGE_H / 2, width=TEXT_W, height=TEXT_W / 3)
        self._frame()
        if self.footer:
            self.canvas.setFont(FONT, 9)
            self.canvas.drawCentredString(PAGE_W / 2, 30, self.prep(self.footer % self.page))
        self.canvas.showPage()
        self.canvas.save()
        return self.buf.getvalue()


def _or_slash(value: object) -> str:
    return "/" if value in (None, "") else str(value)


# --- layouts -------------------------------------------------------------------------------


def _headings(r: Report) -> dict[str, str]:
    rng = r.rng
    return {
        "time": rng.choice(("交通事故时间", "事故时间", "发生时间")),
        "place": rng.choice(("交通事故地点", "事故地点", "发生地点")),
        "facts": rng.choice(("道路交通事故发生经过", "交通事故事实", "事故经过", "基本事实")),
        "cause": rng.choice(("道路交通事故证据及事故形成原因分析", "事故形成原因分析", "事故原因")),
        "liability": rng.choice(
            ("当事人导致交通事故的过错及责任或者意外原因", "事故责任认定", "责任认定")
        ),
    }


def _tail(s: Sheet, r: Report) -> None:
    s.gap(8)
    s.line(f"交通警察：{r.officers[0]}  {r.officers[1]}", 10.5, "right")
    if r.rng.random() < 0.3:  # seal and date on one line
        s.line(f"{r.issuer}（印章）      {date_text(r.issue, r.issue_style)}", 10.5, "right")
    else:
        s.line(f"{r.issuer}（印章）", 10.5, "right")
        s.line(date_text(r.issue, r.issue_style), 10.5, "right")
    s.gap(6)
    s.para(NOTICE, 9, indent=0)


def _sections(s: Sheet, r: Report, h: dict[str, str], size: float = 10.5) -> None:
    for key, text in (("facts", r.facts), ("cause", r.cause), ("liability", r.liability_text)):
        if r.rng.random() < 0.5:
            s.line(f"{h[key]}：", size)
            s.para(text, size)
        else:
            s.para(f"{h[key]}：{text}", size)


def _kv_party_rows(r: Report, p: Party) -> list[list[tuple[str, int]]]:
    plate = plate_text(p.plate, r.sep) if p.plate else "/"
    limit = limit_text(p.commercial_limit, r.limit_style) if p.commercial_limit else "/"
    return [
        [("当事人", 1), (p.label, 1), ("姓名", 1), (p.name, 1), ("性别", 1), (p.gender, 1)]
        + [("年龄", 1), (f"{p.age}岁" if r.rng.random() < 0.5 else str(p.age), 1)],
        [("身份证号码", 1), (p.id_number, 3), ("联系电话", 1), (p.phone, 3)],
        [("住址", 1), (p.address, 7)],
        [("交通方式", 1), (p.traffic_mode, 3), ("驾驶证号", 1), (_or_slash(p.license_no), 3)],
        [("号牌号码", 1), (plate, 3), ("车辆类型", 1), (_or_slash(p.vehicle_type), 3)],
        [("车辆所有人", 1), (_or_slash(p.owner), 7)],
        [("交强险承保公司", 1), (_or_slash(p.ctpi_insurer), 3)]
        + [("交强险保单号", 1), (_or_slash(p.ctpi_policy_no), 3)],
        [("商业险承保公司", 1), (_or_slash(p.commercial_insurer), 3)]
        + [("商业三者险限额", 1), (limit, 3)],
    ]


def _draw_general_table(r: Report, s: Sheet, *, narrow: bool = False) -> dict:
    rng = r.rng
    h = _headings(r)
    title_no = rng.random() < 0.6
    s.line(r.issuer, 15, "center")
    s.line("道路交通事故认定书", 20, "center")
    if title_no:
        s.line(r.document_no, 12, "center")
    s.gap(6)
    rows = []
    if not title_no:
        rows.append([("认定书编号", 1), (r.document_no, 3)])
    rows.append([(h["time"], 1), (_accident_time(r), 1), ("天气", 1), (r.weather, 1)])
    rows.append([(h["place"], 1), (r.location, 3)])
    s.table(rows, [95, 200, 60, 140] if not narrow else [100, 190, 70, 135])
    s.gap(6)
    s.line("当事人、车辆、道路和交通环境等基本情况：", 11)
    for p in r.parties:
        if narrow:
            s.table(_narrow_party_rows(r, p), [100, 120, 100, 175])
        else:
            s.table(_kv_party_rows(r, p), [62, 62, 62, 62, 62, 62, 62, 61])
        s.gap(4)
    s.para(f"道路情况：{r.road_env}")
    _sections(s, r, h)
    _tail(s, r)
    return {"age": True, "address": True, "owner": True}


def _narrow_party_rows(r: Report, p: Party) -> list[list[tuple[str, int]]]:
    # The value column is narrow: an 18-digit ID number wraps onto a second line.
    plate = plate_text(p.plate, r.sep) if p.plate else "/"
    limit = limit_text(p.commercial_limit, r.limit_style) if p.commercial_limit else "/"
    return [
        [("当事人", 1), (p.label, 1), ("姓名", 1), (p.name, 1)],
        [("性别", 1), (p.gender, 1), ("年龄", 1), (str(p.age), 1)],
        [("身份证号码", 1), (p.id_number, 1), ("联系电话", 1), (p.phone, 1)],
        [("住址", 1), (p.address, 3)],
        [("交通方式", 1), (p.traffic_mode, 1), ("号牌号码", 1), (plate, 1)],
        [("车辆类型", 1), (_or_slash(p.vehicle_type), 1), ("驾驶证号", 1)]
        + [(_or_slash(p.license_no), 1)],
        [("车辆所有人", 1), (_or_slash(p.owner), 3)],
        [("交强险承保公司", 1), (_or_slash(p.ctpi_insurer), 1)]
        + [("交强险保单号", 1), (_or_slash(p.ctpi_policy_no), 1)],
        [("商业险承保公司", 1), (_or_slash(p.commercial_insurer), 1)]
        + [("商业三者险限额", 1), (limit, 1)],
    ]


def _prose_party(r: Report, p: Party, marker: str, style: str) -> str:
    """A party paragraph, with labels ("labels") or as running prose ("natural")."""
    bits = [f"{marker}：{p.name}", p.gender]
    if style == "labels":
        bits.append(f"{p.age}岁")
        bits += [f"身份证号码：{p.id_number}", f"住址：{p.address}", f"联系电话：{p.phone}"]
    else:
        bits.append(f"{p.birth.year}年{p.birth.month}月{p.birth.day}日出生")
        bits += [f"公民身份号码{p.id_number}", f"住{p.address}", f"电话{p.phone}"]
    if p.kind == "walk":
        bits.append("步行")
        return "，".join(bits) + "。"
    if p.kind == "ebike":
        bits.append("驾驶无号牌电动自行车" if style == "labels" else "驾驶电动自行车")
        return "，".join(bits) + "。"
    if style == "labels":
        bits.append(f"机动车驾驶证号：{p.license_no}")
        bits.append(f"准驾车型：{p.license_class}")
        bits.append(f"驾驶{plate_text(p.plate, r.sep)}号{p.vehicle_type}")
        bits.append(f"车辆所有人：{p.owner}")
        bits.append(f"交强险承保公司：{p.ctpi_insurer}")
        if p.ctpi_policy_no:
            bits.append(f"保单号：{p.ctpi_policy_no}")
        if p.commercial_insurer:
            bits.append(f"商业三者险承保公司：{p.commercial_insurer}")
            bits.append(f"保险金额：{limit_text(p.commercial_limit, r.limit_style)}")
        return "，".join(bits) + "。"
    bits.append(f"持{p.license_class}驾驶证（证号{p.license_no}）")
    insured = f"在{p.ctpi_insurer}投保了机动车交通事故责任强制保险"
    if p.ctpi_policy_no:
        insured += f"（保单号：{p.ctpi_policy_no}）"
    if p.commercial_insurer == p.ctpi_insurer:
        insured += (
            f"和商业第三者责任保险（保险金额{limit_text(p.commercial_limit, r.limit_style)}）"
        )
    elif p.commercial_insurer:
        insured += (
            f"，在{p.commercial_insurer}投保了商业第三者责任保险"
            f"（责任限额{limit_text(p.commercial_limit, r.limit_style)}）"
        )
    vehicle = f"驾驶{plate_text(p.plate, r.sep)}号{p.vehicle_type}"
    bits.append(f"{vehicle}（该车登记所有人为{p.owner}，{insured}）")
    return "，".join(bits) + "。"


def _draw_general_prose(r: Report, s: Sheet) -> dict:
    rng = r.rng
    h = _headings(r)
    s.line(r.issuer, 15, "center")
    s.line("道路交通事故认定书", 20, "center")
    s.line(r.document_no, 12, "center")
    s.gap(6)
    s.para(f"{h['time']}：{_accident_time(r)}    天气：{r.weather}", 12, 0)
    s.para(f"{h['place']}：{r.location}", 12, 0)
    s.para("当事人、车辆、道路和交通环境等基本情况：", 12, 0)
    marker = rng.choice(("当事人{c}", "{c}方", "当事人{c}方"))
    style = rng.choice(("labels", "natural"))
    for p in r.parties:
        s.para(_prose_party(r, p, marker.format(c=p.char), style), 12)
    s.para(f"道路情况：{r.road_env}", 12)
    _sections(s, r, h, 12)
    _tail(s, r)
    return {"age": style == "labels", "address": True, "owner": True}


def _draw_simple(r: Report, s: Sheet, form: str) -> dict:
    rng = r.rng
    s.line("道路交通事故认定书（简易程序）", 18, "center")
    s.line(f"编号：{r.document_no}", 10.5, "right")
    size = 9
    rows = [
        [("事故时间", 1), (_accident_time(r), 3), ("天气", 1), (r.weather, 3)],
        [("事故地点", 1), (r.location, 7)],
        [
            ("当事人", 1),
            ("姓名", 1),
            ("驾驶证或身份证号码", 1),
            ("联系电话", 1),
            ("交通方式", 1),
            ("机动车型、牌号", 1),
            ("交强险保险公司", 1),
            ("保险凭证号", 1),
        ],
    ]
    for p in r.parties:
        vehicle = "/"
        if p.plate:
            vehicle = f"{p.vehicle_type} {plate_text(p.plate, r.sep)}"
        rows.append(
            [
                (p.char if rng.random() < 0.5 else p.label, 1),
                (p.name, 1),
                (p.id_number, 1),
                (p.phone, 1),
                ("步行" if p.kind == "walk" else "驾驶", 1),
                (vehicle, 1),
                (_or_slash(p.ctpi_insurer), 1),
                (_or_slash(p.ctpi_policy_no), 1),
            ]
        )
    rows.append([("事故形态", 1), (form, 7)])
    rows.append([("交通事故事实及责任", 1), (r.facts, 7)])
    rows.append([("当事人签名", 1), ("", 3), ("交通警察", 1), (r.officers[0], 3)])
    s.table(rows, [45, 45, 80, 70, 40, 75, 80, 60], size)
    s.gap(8)
    s.line(f"{r.issuer}（印章）", 10.5, "right")
    s.line(date_text(r.issue, r.issue_style), 10.5, "right")
    s.gap(6)
    s.para(
        "当事人对交通事故认定有异议的，可以自道路交通事故认定书送达之日起三日内提出书面复核申请。",
        9,
        0,
    )
    return {"age": False, "address": False, "owner": False}


def _draw_transposed(r: Report, s: Sheet) -> dict:
    h = _headings(r)
    s.line(r.issuer, 15, "center")
    s.line("道路交通事故认定书", 20, "center")
    s.line(r.document_no, 12, "center")
    s.gap(6)
    s.para(f"{h['time']}：{_accident_time(r)}    天气：{r.weather}", 10.5, 0)
    s.para(f"{h['place']}：{r.location}", 10.5, 0)
    ps = r.parties
    n = len(ps)
    widths = [75.0] + [(TEXT_W - 75) / n] * n

    def row(label: str, values: list[str]) -> list[tuple[str, int]]:
        """A table row: the field label, then one cell per party."""
        return [(label, 1)] + [(v, 1) for v in values]

    def limit(p: Party) -> str:
        """The party's commercial cover as printed, or /."""
        return limit_text(p.commercial_limit, r.limit_style) if p.commercial_limit else "/"

    def grade(p: Party) -> str:
        """The party's liability as printed in a table cell."""
        return "无责任" if p.liability == "none" else GRADE_WORD[p.liability or ""] + "责任"

    rows = [
        row("项目", [p.label for p in ps]),
        row("姓名", [p.name for p in ps]),
        row("性别", [p.gender for p in ps]),
        row("年龄", [str(p.age) for p in ps]),
        row("身份证号码", [p.id_number for p in ps]),
        row("联系电话", [p.phone for p in ps]),
        row("住址", [p.address for p in ps]),
        row("驾驶证号", [_or_slash(p.license_no) for p in ps]),
        row("交通方式", [p.traffic_mode for p in ps]),
        row("号牌号码", [plate_text(p.plate, r.sep) if p.plate else "无" for p in ps]),
        row("车辆类型", [_or_slash(p.vehicle_type) for p in ps]),
        row("车辆所有人", [_or_slash(p.owner) for p in ps]),
        row("交强险承保公司", [_or_slash(p.ctpi_insurer) for p in ps]),
        row("交强险保单号", [_or_slash(p.ctpi_policy_no) for p in ps]),
        row("商业险承保公司", [_or_slash(p.commercial_insurer) for p in ps]),
        row("商业三者险限额", [limit(p) for p in ps]),
        row("事故责任", [grade(p) for p in ps]),
    ]
    s.table(rows, widths, 9.5)
    s.gap(6)
    _sections(s, r, h)
    _tail(s, r)
    return {"age": True, "address": True, "owner": True}


def _draw_legacy(r: Report, s: Sheet) -> dict:
    """An older style: no unit name on top, padded labels, a table ruled with single strokes,
    parties as 甲：/乙： paragraphs, the unit and date only under the seal."""
    s.line("道路交通事故认定书", 20, "center")
    s.line(f"编号：{r.document_no}", 10.5, "right")
    s.gap(4)
    s.table(
        [
            [("事故时间", 1), (_accident_time(r), 1), ("天　　气", 1), (r.weather, 1)],
            [("事故地点", 1), (r.location, 3)],
        ],
        [80, 215, 60, 140],
    )
    s.gap(6)
    for p in r.parties:
        s.para(_prose_party(r, p, p.char, "labels"), 10.5)
    s.para(f"道路情况：{r.road_env}")
    s.line("交通事故事实：", 10.5)
    s.para(r.facts)
    s.line("事故原因分析：", 10.5)
    s.para(r.cause)
    s.line("责任认定：", 10.5)
    s.para(r.liability_text)
    s.gap(8)
    s.line(f"交通警察：{r.officers[0]}", 10.5, "right")
    s.line(f"{r.issuer}（印章）    {date_text(r.issue, r.issue_style)}", 10.5, "right")
    return {"age": True, "address": True, "owner": True}


# --- public --------------------------------------------------------------------------------


def clean(text: str | None) -> str | None:
    """A running-text value as the expected answers hold it: no whitespace, plates without their
    separator (the corpus convention for `facts`, `cause` and `liability_text`)."""
    if not text:
        return None
    return "".join(ch for ch in text if not ch.isspace() and ch not in "·・")


def _expected(r: Report, procedure: str, shown: dict, accident_form: str | None) -> dict:
    parties = []
    for p in r.parties:
        parties.append(
            {
                "label": p.label,
                "name": p.name,
                "gender": p.gender if procedure != "simple" else None,
                "id_number": p.id_number,
                "phone": p.phone,
                "license_no": p.license_no if procedure == "general" else None,
                "traffic_mode": p.traffic_mode,
                "plate": p.plate,
                "vehicle_type": p.vehicle_type,
                "ctpi_insurer": p.ctpi_insurer,
                "ctpi_policy_no": p.ctpi_policy_no,
                "commercial_insurer": p.commercial_insurer if procedure == "general" else None,
                "commercial_limit": (
                    str(int(p.commercial_limit))
                    if p.commercial_limit is not None and procedure == "general"
                    else None
                ),
                "liability": p.liability if p.liability != "odd" else None,
                "age": p.age if shown["age"] else None,
                "address": p.address if shown["address"] else None,
                "owner": p.owner if shown["owner"] else None,
            }
        )
    return {
        "document_no": r.document_no or None,
        "issuer": r.issuer,
        "procedure": procedure,
        "accident_time": (None if r.time_override else r.time.strftime("%Y-%m-%dT%H:%M:00+08:00")),
        "accident_date": None if r.time_override else r.time.date().isoformat(),
        "location": r.location,
        "weather": r.weather,
        "issue_date": r.issue.isoformat(),
        "year": r.year,
        "accident_form": accident_form,
        "parties": parties,
        "facts": clean(r.facts),
        "cause": clean(r.cause),
        # The old simple form has one 交通事故事实及责任 cell and no 当事人责任 cell of its own.
        "liability_text": clean(r.liability_text) if procedure == "general" else None,
        "warnings": r.planted,
    }


def make_report(variant: str, seed: int = 0, *, faults: tuple[str, ...] = ()) -> tuple[bytes, dict]:
    """A report PDF of the given layout variant and the parse we expect from it.

    `faults` (see FAULTS) plant mistakes; the expected parse then holds the warnings they cause.
    """
    return _make_report(variant, seed, faults)


def _plant_faults(r: Report) -> list[dict]:
    """Apply r.faults to the report before it is drawn; returns the warnings they cause."""
    warnings = []
    first = r.parties[0]
    if "bad_id" in r.faults:
        good = first.id_number
        first.id_number = good[:17] + ("1" if good[17] != "1" else "2")
        warnings.append({"field": "parties[0].id_number"})
    if "bad_plate" in r.faults and first.plate:
        first.plate = "晋JI0O12"  # I and O are never used on plates (GA 36)
        warnings.append({"field": "parties[0].plate"})
    if "odd_liability" in r.faults:
        first.liability = "odd"
        warnings.append({"field": "parties[0].liability"})
    if "scan_page" in r.faults:
        warnings.append({"field": "pages"})
    if "bad_time" in r.faults:
        r.time_override = f"{r.time.year}年13月45日8时"
        warnings.append({"field": "accident_time"})
    return warnings


def _make_report(variant: str, seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    if variant in OFFICIAL_VARIANTS:
        return OFFICIAL_VARIANTS[variant](seed, faults)
    footer = random.Random(seed * 7919 + len(variant)).choice((None, "第%d页", "- %d -"))
    if variant == "general_table":
        r = _report(seed, ["car", "car"], faults)
        first = r.parties[0]
        if first.commercial_insurer is None:  # this variant always shows a commercial policy
            first.commercial_insurer = INSURERS[seed % len(INSURERS)]
            first.commercial_limit = Decimal(1000000)
        r.facts, r.cause = _facts(r, long=False), _cause(r)
        r.liability_text = _liability(r, r.rng.choice(("name", "label", "reason", "combined")))
        s = Sheet(scan_page="scan_page" in faults, footer=footer, centre_cells=r.rng.random() < 0.5)
        shown = _draw_general_table(r, s)
        return s.finish(), _expected(r, "general", shown, None)
    if variant == "general_prose":
        r = _report(seed, ["car", "car", _third_kind(seed)], faults)
        r.time_style = "zh"
        r.issue_style = "zh"
        r.facts, r.cause = _facts(r, long=True), _cause(r)
        r.liability_text = _liability(r, r.rng.choice(("name", "label", "reason", "combined")))
        header = r.issuer if r.rng.random() < 0.5 else None
        s = Sheet(
            scan_page="scan_page" in faults,
            footer=footer or "第%d页",
            header=header,
            frame=seed % 3 == 0,
        )
        shown = _draw_general_prose(r, s)
        return s.finish(), _expected(r, "general", shown, None)
    if variant == "simple":
        bracket = seed % 2 == 0
        r = _report(seed, ["car", random.Random(seed).choice(("car", "car", "walk"))], faults)
        if not bracket:
            r.document_no = f"第{r.time.year}{r.rng.randint(1, 99999):05d}号"
            r.year = None
        form = r.rng.choice(FORMS)
        r.facts = _facts(r, long=False) + _liability(r, r.rng.choice(("name", "label")))
        s = Sheet(scan_page="scan_page" in faults)
        shown = _draw_simple(r, s, form)
        return s.finish(), _expected(r, "simple", shown, form)
    if variant == "pedestrian":
        r = _report(seed, ["car", "walk"], faults)
        r.facts, r.cause = _facts(r, long=False), _cause(r)
        r.liability_text = _liability(r, r.rng.choice(("name", "label", "reason")))
        s = Sheet(scan_page="scan_page" in faults, footer=footer)
        shown = _draw_general_prose(r, s) if seed % 2 else _draw_general_table(r, s)
        return s.finish(), _expected(r, "general", shown, None)
    if variant == "ebike":
        r = _report(
            seed, ["car", "ebike", "ebike", random.Random(seed).choice(("walk", "car"))], faults
        )
        r.facts, r.cause = _facts(r, long=False), _cause(r)
        r.liability_text = _liability(r, r.rng.choice(("name", "label", "combined")))
        s = Sheet(scan_page="scan_page" in faults, footer=footer, centre_cells=r.rng.random() < 0.5)
        shown = _draw_transposed(r, s)
        return s.finish(), _expected(r, "general", shown, None)
    if variant == "libreoffice":
        r = _report(seed, ["car", "car"], faults)
        r.sep = "・"
        r.facts, r.cause = _facts(r, long=False), _cause(r)
        r.liability_text = _liability(r, r.rng.choice(("name", "label")))
        s = Sheet(scan_page="scan_page" in faults, spaced=True, footer=footer)
        shown = _draw_general_table(r, s, narrow=True)
        return s.finish(), _expected(r, "general", shown, None)
    if variant == "legacy":
        r = _report(seed, ["car", random.Random(seed).choice(("car", "walk", "ebike"))], faults)
        r.time_style = "noon"
        r.facts, r.cause = _facts(r, long=False), _cause(r)
        r.liability_text = _liability(r, "label")
        s = Sheet(
            scan_page="scan_page" in faults,
            footer=footer,
            ruled_with_lines=True,
            frame=seed % 2 == 1,
        )
        shown = _draw_legacy(r, s)
        return s.finish(), _expected(r, "general", shown, None)
    raise ValueError(f"unknown variant {variant!r}")


def _third_kind(seed: int) -> str:
    """The third party's kind in the prose variant."""
    return random.Random(seed + 17).choice(("car", "walk", "ebike"))


# --- official letters: the 2017 templates as several producers print them -----------------
#
# The variants below follow the structure of the Ministry of Public Security's 2017 templates
# (一般程序 认定书, 道路交通事故证明, 简易程序 form) with invented people and their own wording.
# A small layout engine (`Letter`) sets the text the way different producers do (LibreOffice,
# Chromium, reportlab): justified lines whose stretch shows up as a space between every
# character, CJK↔Latin autospacing, numbers broken at a line end, page footers inside a
# paragraph that crosses a page, Kangxi-radical code points in the text layer, ruled tables
# with narrow wrapping cells, and a red seal drawn over the issue date.

PLACES = (
    # county, unit (issuer), 文号 character, region code, city, plate letter
    ("平遥县", "平遥县公安局交通警察大队", "平", "140728", "晋中市", "K"),
    ("介休市", "介休市公安局交通警察大队", "介", "140781", "晋中市", "K"),
    ("祁县", "祁县公安局交通警察大队", "祁", "140727", "晋中市", "K"),
    ("灵石县", "灵石县公安局交通警察大队", "灵", "140729", "晋中市", "K"),
    ("榆次区", "晋中市公安局交通警察支队榆次大队", "榆", "140702", "晋中市", "K"),
    ("洪洞县", "洪洞县公安局交通警察大队", "洪", "141024", "临汾市", "L"),
    ("霍州市", "霍州市公安局交通警察大队", "霍", "141082", "临汾市", "L"),
    ("襄汾县", "襄汾县公安局交通警察大队", "襄", "141023", "临汾市", "L"),
    ("尧都区", "临汾市公安局交通警察支队尧都大队", "尧", "141002", "临汾市", "L"),
    ("交城县", "交城县公安局交通警察大队", "交", "141122", "吕梁市", "J"),
    ("孝义市", "孝义市公安局交通警察大队", "孝", "141181", "吕梁市", "J"),
    ("沁源县", "沁源县公安局交通警察大队", "沁", "140431", "长治市", "D"),
    ("高平市", "高平市公安局交通警察大队", "高", "140581", "晋城市", "E"),
)
TOWNS_OF = ("城关镇", "东城街道", "西城街道", "北关街道", "南关街道", "新城街道", "龙泉镇")
HAMLETS = ("东堡村", "南庄村", "西河村", "北坡村", "上营村", "下庄村", "后沟村", "府东社区")
STREETS = (
    "迎宾大街",
    "顺城路",
    "新建路",
    "解放东路",
    "振兴街",
    "文化路",
    "光明北路",
    "建设南路",
    "和平街",
    "站前路",
    "育才路",
    "朝阳街",
    "兴华路",
    "府西街",
)
LANDMARKS = ("农贸市场东门", "客运站出口", "第二中学门前", "加油站入口", "汽修厂门前", "物流园北门")
HIGHWAYS = ("G108线", "G208线", "G341线", "S226线", "S317线", "S232线")
INSURER_BASES = (
    "中国人民财产保险股份有限公司",
    "中国平安财产保险股份有限公司",
    "中国太平洋财产保险股份有限公司",
    "中华联合财产保险股份有限公司",
    "中国人寿财产保险股份有限公司",
    "阳光财产保险股份有限公司",
    "天安财产保险股份有限公司",
    "中国大地财产保险股份有限公司",
    "紫金财产保险股份有限公司",
)
CAR_TYPES = (
    ("小型轿车", "C1"),
    ("小型普通客车", "C1"),
    ("小型越野客车", "C1"),
    ("轻型普通货车", "C1"),
    ("轻型厢式货车", "C1"),
    ("中型普通客车", "B1"),
)
UNKNOWN_TYPES = ("小型轿车", "小型普通客车", "轻型普通货车", "小型越野客车")
COLOURS = ("白色", "黑色", "银灰色", "红色", "深蓝色")
SKY = ("晴", "阴", "多云", "小雨", "中雨", "小雪", "雾")
COMPANY_KINDS = ("物流有限公司", "运输有限公司", "商贸有限公司", "建材有限公司", "汽车租赁有限公司")
COMPANY_WORDS = ("顺达", "恒通", "鑫源", "宏远", "瑞丰", "金泰", "兴盛", "永安")
# Characters Chromium + Noto CJK writes as Kangxi / CJK-radical code points (README quirk 1).
_RADICAL_TARGETS = (
    "大月日人方乙女车民门黄青龙页身生山文口米行自无白干气面长小心支户石水田入非高二一十见走用力又子"
)
_SUPPLEMENT = {"车": "⻋", "民": "⺠", "门": "⻔", "黄": "⻩", "青": "⻘", "龙": "⻰", "页": "⻚"}
_SUPPLEMENT.update({"长": "⻓", "见": "⻅", "户": "⼾"})


def _radical_map() -> dict[str, str]:
    reverse = {}
    for code in range(0x2F00, 0x2FD6):
        reverse.setdefault(unicodedata.normalize("NFKC", chr(code)), chr(code))
    table = {ch: reverse[ch] for ch in _RADICAL_TARGETS if ch in reverse}
    table.update(_SUPPLEMENT)
    return table


RADICALS = _radical_map()
UNFOLD = {v: k for k, v in RADICALS.items()}
GRADES_ZH = {"full": "全部", "main": "主要", "equal": "同等", "minor": "次要", "odd": "相应"}
ARTICLE_ITEM = {"full": "一", "main": "二", "minor": "二", "equal": "三", "none": "一", "odd": "二"}


def fold_radicals(text: str) -> str:
    """Text with the radical code points this generator draws mapped back to the ideographs."""
    return "".join(UNFOLD.get(ch, ch) for ch in text)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


_WIDTHS: dict[str, float] = {}


def _em(text: str) -> float:
    """Width of `text` at 1 pt (cached per character)."""
    total = 0.0
    for ch in text:
        w = _WIDTHS.get(ch)
        if w is None:
            _register_font()
            w = pdfmetrics.stringWidth(ch, FONT, 1000) / 1000
            _WIDTHS[ch] = w
        total += w
    return total


# --- people and vehicles -------------------------------------------------------------------


@dataclass
class Person:
    """One party of an official letter; `kind`: drive, ebike, walk, ride (a passenger) or
    unknown (a driver who fled and was never found)."""

    kind: str
    label: str | None = None
    name: str | None = None
    gender: str | None = None
    birth: dt.date | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    vehicle_type: str | None = None
    plate: str | None = None
    trailer: str | None = None
    license_class: str | None = None
    owner: str | None = None
    insurance: str = "none"  # full | short | none
    ctpi_insurer: str | None = None
    ctpi_policy_no: str | None = None
    commercial_insurer: str | None = None
    commercial_limit: int | None = None
    liability: str | None = None
    role: str = ""
    rides_with: int | None = None  # a passenger: index of the party whose vehicle it is
    colour: str = ""
    caught: dt.date | None = None

    @property
    def drives(self) -> bool:
        return self.kind in ("drive", "ebike", "unknown")

    @property
    def motor(self) -> bool:
        return self.kind == "drive"

    @property
    def who(self) -> str:
        """How running text names this party."""
        return self.name or "肇事车辆驾驶人"

    @property
    def traffic_mode(self) -> str:
        if self.kind == "walk":
            return "步行"
        if self.kind == "ride":
            return "乘坐"
        return "驾驶" + (self.vehicle_type or "")


def _policy_no(rng: random.Random, base: str, year: int, region: str) -> str:
    digits = "0123456789"
    n = INSURER_BASES.index(base) if base in INSURER_BASES else 0
    if n == 0:
        return f"PDZA{year}{region[:4]}" + "".join(rng.choice(digits) for _ in range(10))
    if n == 2:
        return f"ATPB{year}" + "".join(rng.choice(digits) for _ in range(12))
    if n == 4:
        return "8061" + str(year) + "".join(rng.choice(digits) for _ in range(13))
    length = rng.choice((18, 20, 21))
    return rng.choice("123456789") + "".join(rng.choice(digits) for _ in range(length - 1))


def _insurer(rng: random.Random, city: str, county: str) -> str:
    base = rng.choice(INSURER_BASES)
    branch = rng.choice(
        (f"{city}分公司", f"{city[:-1]}中心支公司", f"{county}支公司", "山西分公司")
    )
    return base + branch


def _new_plate(rng: random.Random, letter: str, *, energy: bool = False, dot: bool = True) -> str:
    letters, digits = "ABCDEFGHJKLMNPQRSTUVWXYZ", "0123456789"
    if energy:
        tail = rng.choice("DF") + "".join(rng.choice(digits) for _ in range(5))
    else:  # at most two letters among the five (L: letter, D: digit)
        pattern = rng.choice(("DDDDD", "LDDDD", "DLDDD", "LLDDD", "DDLLD", "DLDLD", "DDDLD"))
        tail = "".join(rng.choice(letters if k == "L" else digits) for k in pattern)
    return "晋" + letter + tail


def _person(
    rng: random.Random, names: Names, place: tuple, kind: str, year: int, **over: object
) -> Person:
    county, _, _, region, city, letter = place
    gender = rng.choice("男男女")
    if kind == "ride" and rng.random() < 0.4:
        birth = dt.date(rng.randint(year - 15, year - 4), rng.randint(1, 12), rng.randint(1, 28))
    else:
        birth = dt.date(rng.randint(1958, year - 19), rng.randint(1, 12), rng.randint(1, 28))
    seq = rng.randint(0, 99) * 10 + rng.choice(
        (1, 3, 5, 7, 9) if gender == "男" else (0, 2, 4, 6, 8)
    )
    home = region if rng.random() < 0.8 else rng.choice(PLACES)[3]
    first17 = home + birth.strftime("%Y%m%d") + f"{seq:03d}"
    home_county = next((p[0] for p in PLACES if p[3] == home), county)
    home_city = next((p[4] for p in PLACES if p[3] == home), city)
    p = Person(
        kind=kind,
        name=names(),
        gender=gender,
        birth=birth,
        id_number=first17 + id_check_char(first17),
        phone="1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9)),
        address=f"山西省{home_city}{home_county}{rng.choice(TOWNS_OF)}{rng.choice(HAMLETS)}",
    )
    if rng.random() < 0.3:
        p.address += f"{rng.randint(1, 120)}号"
    if kind in ("walk", "ride") and (rng.random() < 0.5 or year - birth.year < 16):
        p.phone = None
    if kind == "ebike":
        p.vehicle_type = "电动自行车"
    if kind == "drive":
        vtype, cls = over.pop("vehicle", None) or rng.choice(CAR_TYPES)
        p.vehicle_type, p.license_class = vtype, cls
        p.plate = _new_plate(
            rng, letter, energy=vtype in ("小型轿车", "小型普通客车") and rng.random() < 0.3
        )
        if vtype == "重型半挂牵引车":
            p.trailer = "晋" + letter + rng.choice("ABCDEFGH") + f"{rng.randint(100, 999)}挂"
        if rng.random() < 0.25:
            p.owner = f"{home_city}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}"
        else:
            p.owner = p.name
        p.insurance = over.pop("insurance", None) or rng.choice(("full", "full", "full", "short"))
        if p.insurance != "none":
            p.ctpi_insurer = _insurer(rng, home_city, home_county)
            base = next(b for b in INSURER_BASES if p.ctpi_insurer.startswith(b))
            p.ctpi_policy_no = _policy_no(rng, base, year, home)
            if rng.random() < 0.6:
                p.commercial_insurer = (
                    p.ctpi_insurer if rng.random() < 0.75 else _insurer(rng, home_city, home_county)
                )
                p.commercial_limit = rng.choice((50, 100, 100, 150, 200, 300)) * 10000
    for key, value in over.items():
        setattr(p, key, value)
    return p


def _unknown(rng: random.Random) -> Person:
    return Person(
        kind="unknown", vehicle_type=rng.choice(UNKNOWN_TYPES), colour=rng.choice(COLOURS)
    )


# --- times and dates -----------------------------------------------------------------------


def _zh_minute(m: int, rng: random.Random) -> str:
    if m == 0:
        return ""
    if m < 10:
        return ("零" if rng.random() < 0.6 else "") + ZH_DIGITS[m] + "分"
    return zh_number(m) + "分"


def official_time(t: dt.datetime, style: str, about: bool, rng: random.Random) -> str:
    """The accident time as the letter prints it.

    style: arabic (18时30分), padded (08时05分), noon (上午/下午/凌晨), zh (Chinese numerals),
    zh_noon (Chinese numerals with 上午/下午/凌晨). A time on the hour has no minutes (`19时许`,
    `18时`)."""
    zh = style.startswith("zh")
    hour = t.hour
    part = ""
    if style in ("noon", "zh_noon"):
        if hour < 6:
            part = "凌晨"
        elif hour < 12:
            part = "上午"
        elif 13 <= hour <= 17:
            part, hour = "下午", hour - 12
    if zh:
        text = zh_date(t.date()) + part + zh_number(hour) + "时" + _zh_minute(t.minute, rng)
    else:
        day = f"{t.year}年{t.month}月{t.day}日"
        if style == "padded" and not part:
            text = f"{day}{hour:02d}时" + (f"{t.minute:02d}分" if t.minute else "")
        else:
            text = f"{day}{part}{hour}时" + (f"{t.minute}分" if t.minute else "")
    return text + ("许" if about else "")


def official_date(d: dt.date, zh: bool) -> str:
    return zh_date(d) if zh else f"{d.year}年{d.month}月{d.day}日"


# --- the layout engine -----------------------------------------------------------------------


NO_START = "，。；：、）》”％〕"


@dataclass
class Row:
    """One unit of vertical space: a line of text or a block of table rows."""

    size: float | None  # text rows grow with the leading; None: fixed height
    fixed: float
    draw: object  # callable(canvas, top_y, page) -> None
    tag: tuple = ()


@dataclass
class PageCtx:
    number: int
    overlays: list = field(default_factory=list)


class Letter:
    """Lays a letter out as rows, pages it (with control over where page 1 breaks) and draws
    it with reportlab."""

    def __init__(
        self,
        *,
        size: float = 10.5,
        justify: bool = False,
        keep_runs: bool = False,
        autospace: bool = False,
        radicals: bool = False,
        footer: str | None = None,
        kinsoku: bool = True,
        left: float = 72.0,
        right: float = 72.0,
        top: float = 62.0,
        bottom: float = 64.0,
    ) -> None:
        _register_font()
        self.size = size
        self.justify = justify
        self.keep_runs = keep_runs
        self.autospace = autospace
        self.radicals = radicals
        self.footer = footer
        self.kinsoku = kinsoku  # reportlab lets a line start with ，or ：
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.width = PAGE_W - left - right
        self.rows: list[Row] = []
        self.extra_pages: list = []

    # text helpers
    def glyphs(self, text: str) -> str:
        """What goes into the text layer: radical code points where this producer writes them."""
        return "".join(RADICALS.get(ch, ch) for ch in text) if self.radicals else text

    def _tokens(self, text: str, keep_runs: bool) -> list[str]:
        if not keep_runs:
            return list(text)
        return re.findall(r"[A-Za-z0-9·.+\-/%]+|.", text, flags=re.S)

    def _gap(self, prev: str, tok: str, size: float, autospace: bool) -> float:
        if not autospace or not prev:
            return 0.0
        a, b = prev[-1], tok[0]
        if (_is_han(a) and _is_latin(b)) or (_is_latin(a) and _is_han(b)):
            return max(3.3, 0.3 * size)
        return 0.0

    def wrap(
        self,
        text: str,
        width: float,
        size: float,
        indent: float = 0.0,
        *,
        keep_runs: bool | None = None,
        autospace: bool | None = None,
    ) -> list[tuple[list[tuple[str, float, float]], float, float, bool]]:
        """Lines as (tokens [(token, gap before, width)], natural width, available, last)."""
        keep = self.keep_runs if keep_runs is None else keep_runs
        auto = self.autospace if autospace is None else autospace
        lines = []
        cur: list[tuple[str, float, float]] = []
        curw = 0.0
        avail = width - indent
        for tok in self._tokens(text, keep):
            if tok == "\n":
                lines.append((cur, curw, avail, True))
                cur, curw, avail = [], 0.0, width
                continue
            w = _em(tok) * size
            g = self._gap(cur[-1][0] if cur else "", tok, size, auto)
            if cur and curw + g + w > avail + 0.01:
                carry: list[tuple[str, float, float]] = []
                if self.kinsoku and tok[0] in NO_START:  # no line starts with ，。）
                    while len(cur) > 1 and (not carry or carry[0][0][0] in NO_START):
                        carry.insert(0, cur.pop())
                        curw -= carry[0][1] + carry[0][2]
                lines.append((cur, curw, avail, False))
                cur, curw, avail, g = [], 0.0, width, 0.0
                for ctok, _, cw in carry:
                    cur.append((ctok, 0.0, cw))
                    curw += cw
                g = self._gap(cur[-1][0] if cur else "", tok, size, auto)
            cur.append((tok, g, w))
            curw += g + w
        if cur or not lines:
            lines.append((cur, curw, avail, True))
        return lines

    def _draw_tokens(self, c, x, base, size, toks, extra=0.0) -> None:
        if not toks:
            return
        if extra < 0.05 and not any(g for _, g, _ in toks):
            c.setFont(FONT, size)
            c.drawString(x, base, self.glyphs("".join(t for t, _, _ in toks)))
            return
        t = c.beginText()
        t.setFont(FONT, size)
        for i, (tok, g, w) in enumerate(toks):
            x += g + (extra if i else 0.0)
            t.setTextOrigin(x, base)
            t.textOut(self.glyphs(tok))
            x += w
        c.drawText(t)

    # blocks
    def gap(self, height: float) -> None:
        self.rows.append(Row(None, height, lambda c, y, pg: None, ("gap",)))

    def line(
        self,
        text: str,
        size: float | None = None,
        align: str = "left",
        *,
        spacing: float = 0.0,
        tag: tuple = (),
        seal: Image.Image | None = None,
    ) -> None:
        """One line; `spacing` letter-spaces it (a spaced title); `seal` is drawn over it."""
        size = size or self.size

        def draw(c, y, pg, text=text, size=size) -> None:
            if spacing:
                toks = [(ch, 0.0, _em(ch) * size) for ch in text]
            else:
                toks = self.wrap(text, 1e6, size, keep_runs=True)[0][0]
            width = sum(g + w for _, g, w in toks) + spacing * (len(toks) - 1)
            x = self.left
            if align == "center":
                x = (PAGE_W - width) / 2
            elif align == "right":
                x = PAGE_W - self.right - width
            base = y - size * 1.1
            self._draw_tokens(c, x, base, size, toks, spacing)
            if seal:
                d = 98.0
                pg.overlays.append((seal, x + width / 2 - d / 2 - 8, base - d / 2 + 4, d, d))

        self.rows.append(Row(size, 0.0, draw, tag))

    def para(self, text: str, size: float | None = None, indent: int = 2, tag: tuple = ()) -> None:
        """A wrapped paragraph with a first-line indent of `indent` characters."""
        size = size or self.size
        lines = self.wrap(text, self.width, size, indent * size)
        for i, (toks, natural, avail, last) in enumerate(lines):
            extra = 0.0
            if self.justify and not last and len(toks) > 1:
                extra = max(0.0, (avail - natural) / (len(toks) - 1))
            x0 = self.left + (indent * size if i == 0 else 0.0)

            def draw(c, y, pg, toks=toks, x0=x0, extra=extra) -> None:
                self._draw_tokens(c, x0, y - size * 1.1, size, toks, extra)

            self.rows.append(Row(size, 0.0, draw, (*tag, i, len(lines)) if tag else ()))

    def grid(self, grid: Grid) -> None:
        total = sum(grid.widths)
        if total > self.width:  # a table never runs past the right margin
            grid.widths = [w * self.width / total for w in grid.widths]
        for height, draw in grid.blocks(self):
            self.rows.append(Row(None, height, draw, ("table",)))

    # pages
    def paginate(self, leading: float, breaks: frozenset = frozenset()) -> list[list[tuple]]:
        usable_top = PAGE_H - self.top
        pages: list[list[tuple]] = [[]]
        y = usable_top
        for i, row in enumerate(self.rows):
            h = row.fixed if row.size is None else row.size * leading
            if (y - h < self.bottom or i in breaks) and pages[-1]:
                pages.append([])
                y = usable_top
                if row.tag == ("gap",):
                    continue
            pages[-1].append((i, y))
            y -= h
        return pages

    def _is_spot(self, i: int, want: str) -> bool:
        """Whether a page break between rows i and i + 1 is the one `want` asks for: inside a
        section's body, or ("heading:<section>") between its heading and its body."""
        if i + 1 >= len(self.rows):
            return False
        tag, nxt = self.rows[i].tag, self.rows[i + 1].tag
        if want.startswith("heading:"):
            section = want.split(":", 1)[1]
            return tag == ("heading", section) and nxt[:1] == (section,)
        return tag[:1] == (want,) and nxt[:1] == (want,)

    def _split_ok(self, pages, want: str) -> bool:
        return any(self._is_spot(page[-1][0], want) for page in pages[:-1] if page)

    def layout(self, rng: random.Random, want: str | None) -> tuple[list, float]:
        """Pages with a leading chosen so that (if possible) a page break falls where `want`
        says: inside the facts or liability paragraph, or right after a section heading."""
        leadings = [1.5 + 0.04 * k for k in range(11)]
        rng.shuffle(leadings)
        if want is None:
            return self.paginate(leadings[0]), leadings[0]
        for leading in leadings:
            pages = self.paginate(leading)
            if self._split_ok(pages, want):
                return pages, leading
        # Nothing natural: end a page early at the spot (as Word's keep-with-next would),
        # with the leading that leaves the least blank space at the foot of that page.
        best = None
        for leading in leadings:
            for page in self.paginate(leading):
                tops = dict(page)
                for i, _ in page:
                    if self._is_spot(i, want) and i + 1 in tops:
                        blank = tops[i + 1] - self.bottom
                        if best is None or blank < best[0]:
                            best = (blank, leading, i + 1)
        if best is None:
            return self.paginate(leadings[0]), leadings[0]
        _, leading, spot = best
        return self.paginate(leading, frozenset({spot})), leading

    def render(self, rng: random.Random, want: str | None = None, scan_page: bool = False) -> bytes:
        # ASCII85 is encoded in pure Python here: leave streams binary (4× faster with a seal).
        saved = reportlab.rl_config.useA85
        reportlab.rl_config.useA85 = 0
        try:
            return self._render(rng, want, scan_page)
        finally:
            reportlab.rl_config.useA85 = saved

    def _render(self, rng: random.Random, want: str | None, scan_page: bool) -> bytes:
        pages, leading = self.layout(rng, want)
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, invariant=1)
        total = len(pages) + (1 if scan_page else 0)
        for n, page in enumerate(pages, start=1):
            ctx = PageCtx(n)
            for i, y in page:
                self.rows[i].draw(c, y, ctx)
            self._finish_page(c, ctx, total)
        if scan_page:
            ctx = PageCtx(total)
            image = ImageReader(io.BytesIO(_png("询问笔录")))
            c.drawImage(image, self.left, PAGE_H / 2, width=self.width, height=self.width / 3)
            self._finish_page(c, ctx, total)
        c.save()
        return buf.getvalue()

    def _finish_page(self, c, ctx: PageCtx, total: int) -> None:
        for png, x, y, w, h in ctx.overlays:
            c.drawImage(ImageReader(png), x, y, width=w, height=h, mask="auto")
        if self.footer:
            text = self.glyphs(self.footer.format(n=ctx.number, total=total))
            c.setFont(FONT, 9)
            c.drawCentredString(PAGE_W / 2, 34, text)
        c.showPage()


@dataclass
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    align: str = "left"
    seal: Image.Image | None = None
    signatures: tuple = ()  # ((label, name), …): labels as text, names as images


class Grid:
    """A ruled table: rows of cells with column and row spans (HTML-style placement)."""

    def __init__(self, widths: list[float], size: float = 9.0, pad: float = 2.5) -> None:
        self.widths = widths
        self.size = size
        self.pad = pad
        self.leading = size * 1.32
        self.rows: list[list[Cell]] = []

    def row(self, *cells: Cell | str) -> None:
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])

    def blocks(self, letter: Letter) -> list[tuple[float, object]]:
        n_cols = len(self.widths)
        taken: set[tuple[int, int]] = set()
        placed = []  # (row, col, cell, lines)
        for r, cells in enumerate(self.rows):
            col = 0
            for cell in cells:
                while (r, col) in taken:
                    col += 1
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken.add((r + dr, col + dc))
                w = sum(self.widths[col : col + cell.colspan]) - 2 * self.pad
                lines = letter.wrap(cell.text, w, self.size, keep_runs=False, autospace=False)
                if cell.signatures:
                    lines = lines + [([], 0.0, w, True)]
                placed.append((r, col, cell, lines))
                col += cell.colspan
            if col > n_cols:
                raise ValueError(f"row {r} has {col} columns, the grid {n_cols}")
        heights = [0.0] * len(self.rows)
        for r, _, cell, lines in placed:
            if cell.rowspan == 1:
                need = len(lines) * self.leading + 2 * self.pad + (14 if cell.signatures else 0)
                heights[r] = max(heights[r], need)
        for r, _, cell, lines in placed:
            if cell.rowspan > 1:
                need = len(lines) * self.leading + 2 * self.pad
                have = sum(heights[r : r + cell.rowspan])
                if need > have:
                    heights[r + cell.rowspan - 1] += need - have
        # blocks: rows tied together by row spans are paged as one
        blocks = []
        start = 0
        while start < len(self.rows):
            end = start
            r = start
            while r <= end:
                for pr, _, cell, _ in placed:
                    if pr == r:
                        end = max(end, r + cell.rowspan - 1)
                r += 1
            blocks.append((start, end))
            start = end + 1
        out = []
        for start, end in blocks:
            members = [p for p in placed if start <= p[0] <= end]
            height = sum(heights[start : end + 1])

            def draw(c, y, pg, members=members, start=start) -> None:
                c.setLineWidth(0.7)
                for r, col, cell, lines in members:
                    x = letter.left + sum(self.widths[:col])
                    w = sum(self.widths[col : col + cell.colspan])
                    top = y - sum(heights[start:r])
                    h = sum(heights[r : r + cell.rowspan])
                    c.rect(x, top - h, w, h)
                    block = len(lines) * self.leading
                    first = top - (h - block) / 2
                    for i, (toks, natural, _, _) in enumerate(lines):
                        base = first - i * self.leading - self.size * 1.05
                        centre = cell.align == "center"
                        lx = x + (w - natural) / 2 if centre else x + self.pad
                        letter._draw_tokens(c, lx, base, self.size, toks)
                        if cell.seal and i == 0:
                            d = 96.0
                            pg.overlays.append(
                                (cell.seal, lx + natural / 2 - d / 2, base - d / 2 + 3, d, d)
                            )
                    if cell.signatures:
                        base = first - (len(lines) - 1) * self.leading - self.size * 1.05
                        sx = x + self.pad
                        c.setFont(FONT, self.size)
                        for label, name in cell.signatures:
                            text = label + "："
                            c.drawString(sx, base, letter.glyphs(text))
                            sx += _em(text) * self.size
                            pg.overlays.append((_signature(name), sx, base - 6, 60, 22))
                            sx += 64 + 2 * self.size

            out.append((height, draw))
        return out


# --- images --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _pil_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size, index=0)


@functools.lru_cache(maxsize=64)
def _seal(text: str) -> Image.Image:
    """A red round seal: ring, star and the unit name curved along the top (RGBA)."""
    size = 300
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (214, 30, 36, 200)
    draw.ellipse((8, 8, size - 8, size - 8), outline=red, width=9)
    cx = cy = size / 2
    star = []
    for k in range(10):
        r = 42 if k % 2 == 0 else 17
        a = math.pi / 2 + k * math.pi / 5
        star.append((cx + r * math.cos(a), cy - r * math.sin(a)))
    draw.polygon(star, fill=red)
    font = _pil_font(30)
    chars = list(text)
    spread = min(250.0, 19.0 * len(chars))
    for k, ch in enumerate(chars):
        angle = -spread / 2 + spread * (k + 0.5) / len(chars)
        tile = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((5, 3), ch, font=font, fill=red)
        tile = tile.rotate(-angle, resample=Image.BICUBIC)
        rad = math.radians(angle - 90)
        x = cx + 110 * math.cos(rad) - 20
        y = cy + 110 * math.sin(rad) - 20
        img.alpha_composite(tile, (int(x), int(y)))
    ImageDraw.Draw(img).text((cx - 75, cy + 62), "交通事故专用章", font=font, fill=red)
    rng = random.Random(text)
    pixels = img.load()
    for _ in range(900):  # ink speckle
        x, y = rng.randrange(size), rng.randrange(size)
        if pixels[x, y][3]:
            pixels[x, y] = (214, 30, 36, rng.randint(60, 160))
    return img


@functools.lru_cache(maxsize=256)
def _signature(name: str) -> Image.Image:
    """A name written by hand (an image: it never reaches the text layer)."""
    img = Image.new("LA", (120, 44), (0, 0))
    ImageDraw.Draw(img).text((4, 5), name, font=_pil_font(27), fill=(30, 230))
    img = img.transform(img.size, Image.AFFINE, (1, 0.35, -8, 0, 1, 0), resample=Image.BILINEAR)
    return img.convert("RGBA")


# --- one official letter -------------------------------------------------------------------


@dataclass
class Official:
    """The facts of one accident and the choices of how its letter is worded and printed."""

    rng: random.Random
    place: tuple
    issuer: str
    number: str  # as printed
    document_no: str  # as expected
    year: int | None
    time: dt.datetime
    issue: dt.date
    location: str
    weather: str
    parties: list[Person]
    officers: list[str]
    time_text: str
    zh_issue: bool
    labels: bool
    party_style: str  # prose | role | list | label
    facts: str = ""
    cause: str = ""
    liability_text: str = ""
    planted: list = field(default_factory=list)
    time_override: str | None = None


def _number(
    rng: random.Random, place: tuple, year: int, simple: bool, word: str = "认"
) -> tuple[str, str, int | None]:
    """(printed, expected, year of a 文号) for a letter number."""
    region = place[3]
    if simple:
        digits = region + str(year) + f"{rng.randint(1, 9999):06d}"[-rng.choice((6, 7)) :]
        style = rng.choice(("no", "di", "bian"))
        if style == "no":
            return f"No. {digits}", digits, None
        if style == "bian":
            return f"编号：{digits}", digits, None
        spaced = rng.random() < 0.5
        return (f"第 {digits} 号" if spaced else f"第{digits}号"), f"第{digits}号", None
    if rng.random() < 0.5:
        digits = region + rng.choice("12") + str(year) + f"{rng.randint(1, 9999):07d}"
        printed = f"第 {digits} 号" if rng.random() < 0.6 else f"第{digits}号"
        return printed, f"第{digits}号", None
    text = f"{place[2]}公交{word}字〔{year}〕第{rng.randint(1, 999):05d}号"
    return text, text, year


def _official(seed: int, salt: str, kinds: list[str], *, simple: bool = False) -> Official:
    """A letter's facts and wording; `kinds` as for Person (tractor/moto are drivers)."""
    rng = random.Random(f"{salt}:{seed}")
    place = rng.choice(PLACES)
    county, issuer, _, _, city, _ = place
    year = rng.randint(2022, 2025)
    time = dt.datetime(
        year,
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(0, 23),
        rng.choice((0, 0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)),
    )
    issue = time.date() + dt.timedelta(days=rng.randint(0, 1) if simple else rng.randint(10, 40))
    word = "证" if salt == "certificate" else "认"
    printed, document_no, doc_year = _number(rng, place, year, simple, word)
    names = Names(rng)
    parties: list[Person] = []
    for kind in kinds:
        if kind == "unknown":
            parties.append(_unknown(rng))
        elif kind == "tractor":
            parties.append(
                _person(rng, names, place, "drive", year, vehicle=("重型半挂牵引车", "A2"))
            )
        elif kind == "moto":
            p = _person(rng, names, place, "drive", year, vehicle=("普通二轮摩托车", "D"))
            p.commercial_insurer = p.commercial_limit = None
            parties.append(p)
        elif kind == "uninsured":
            p = _person(rng, names, place, "drive", year, insurance="none")
            parties.append(p)
        else:
            parties.append(_person(rng, names, place, kind, year))
    for n, p in enumerate(parties):
        if p.kind == "ride":
            p.rides_with = max(i for i in range(n) if parties[i].kind in ("drive", "ebike"))
        if p.kind == "drive" and p.vehicle_type == "普通二轮摩托车" and rng.random() < 0.3:
            p.license_class = None  # 未取得机动车驾驶证
            p.insurance = "none"
            p.ctpi_insurer = p.ctpi_policy_no = p.commercial_insurer = None
            p.commercial_limit = None
    if rng.random() < 0.5:
        a, b = rng.sample(STREETS, 2)
        location = f"{county}{rng.choice(TOWNS_OF)}{a}与{b}交叉口"
        if rng.random() < 0.4:
            location += f"{rng.choice('东南西北')}侧约{rng.randint(2, 9) * 10}米处"
    elif rng.random() < 0.6:
        location = (
            f"{county}{rng.choice(TOWNS_OF)}{rng.choice(HIGHWAYS)}K{rng.randint(12, 980)}"
            f"+{rng.randint(1, 9)}{rng.choice('05')}0米处"
        )
    else:
        location = f"{county}{rng.choice(STREETS)}{rng.choice(LANDMARKS)}"
    weather = rng.choice(SKY)
    style = rng.choice(("arabic", "arabic", "padded", "noon", "zh", "zh_noon"))
    about = rng.random() < 0.6
    officer_names = [names(), names()]
    return Official(
        rng=rng,
        place=place,
        issuer=issuer,
        number=printed,
        document_no=document_no,
        year=doc_year,
        time=time,
        issue=issue,
        location=location,
        weather=weather,
        parties=parties,
        officers=officer_names,
        time_text=official_time(time, style, about, rng),
        zh_issue=style.startswith("zh") or rng.random() < 0.2,
        labels=False,
        party_style="prose",
    )


def _assign_liability(o: Official, options: list[tuple[str, ...]]) -> None:
    for p, grade in zip(o.parties, o.rng.choice(options), strict=True):
        p.liability = grade


def _use_labels(o: Official) -> None:
    o.labels = True
    for n, p in enumerate(o.parties):
        p.label = LABEL_CHARS[n] + "方"


def _plate_of(p: Person, sep: str) -> str:
    return plate_text(p.plate, sep) if p.plate else ""


def _vehicle_phrase(p: Person, sep: str) -> str:
    """驾驶晋K·A1234号小型轿车 (with the trailer of a tractor), or 驾驶无号牌电动自行车."""
    if p.kind == "ebike":
        return "驾驶无号牌电动自行车"
    text = f"驾驶{_plate_of(p, sep)}号{p.vehicle_type}"
    if p.trailer:
        text += f"牵引{plate_text(p.trailer, sep)}号重型普通半挂车"
    return text


def _vehicle_ref(p: Person, sep: str) -> str:
    """The party's vehicle named in running text: 晋K·A1234号小型轿车, 电动自行车."""
    if p.kind == "ebike":
        return "电动自行车"
    if p.kind == "unknown":
        return f"{p.colour}{p.vehicle_type}（号牌不详）"
    return f"{_plate_of(p, sep)}号{p.vehicle_type}"


# --- wording -------------------------------------------------------------------------------


ID_WORDS = ("居民身份证号码", "公民身份号码", "身份证号码", "居民身份证号")


def _party_paragraph(
    o: Official, letter: Letter, p: Person, n: int, sep: str, break_numbers: bool
) -> str:
    """The party's paragraph; with `break_numbers` the wording (which ID label, 联系电话 or
    电话) is picked so that the ID or policy number is cut at a line end, as LibreOffice does."""
    words = list(ID_WORDS)
    o.rng.shuffle(words)
    if not break_numbers or not p.id_number:
        return _party_text(o, p, n, sep, words[0])
    best, most = "", -1
    numbers = [x for x in (p.id_number, p.ctpi_policy_no) if x]
    for word in words:
        for phone_word in ("联系电话", "电话"):
            text = _party_text(o, p, n, sep, word, phone_word)
            wrapped = letter.wrap(text, letter.width, letter.size, 2 * letter.size)
            lines = ["".join(t for t, _, _ in toks) for toks, *_ in wrapped]
            cut = sum(1 for x in numbers if not any(x in line for line in lines))
            if cut > most:
                best, most = text, cut
    return best


def _party_text(
    o: Official,
    p: Person,
    n: int,
    sep: str,
    id_word: str = "居民身份证号码",
    phone_word: str = "联系电话",
) -> str:
    rng = o.rng
    if p.kind == "unknown":
        source = rng.choice(("据证人证言", "经调查走访", "据报警人反映"))
        tail = rng.choice(("事故发生后驾车驶离现场，逃逸", "肇事后驾车逃逸"))
        vehicle = f"{p.colour}{p.vehicle_type}（号牌不详）"
        return f"肇事车辆驾驶人：身份不明。{source}，其驾驶一辆{vehicle}，{tail}。"
    role = {"drive": "驾驶人", "ebike": "电动自行车驾驶人", "walk": "行人", "ride": "乘车人"}[
        p.kind
    ]
    lead = {
        "prose": f"当事人{p.name}",
        "role": f"当事人：{p.name}（{role}）",
        "list": f"{n + 1}.当事人{p.name}",
        "label": f"{p.label}：{p.name}",
    }[o.party_style]
    bits = [lead, p.gender, f"{p.birth.year}年{p.birth.month}月{p.birth.day}日出生"]
    bits.append(f"{id_word}{p.id_number}")
    bits.append(f"住{p.address}")
    if p.phone:
        bits.append(f"{phone_word}{p.phone}")
    if p.kind == "walk":
        return "，".join(bits) + "，步行。"
    if p.kind == "ride":
        host = o.parties[p.rides_with]
        if host.kind == "ebike":
            return "，".join(bits) + f"，乘坐{host.name}驾驶的电动自行车。"
        return "，".join(bits) + f"，乘坐{_vehicle_ref(host, sep)}。"
    if p.kind == "ebike":
        return (
            "，".join(bits) + "，" + rng.choice(("驾驶无号牌电动自行车", "驾驶电动自行车")) + "。"
        )
    bits.append(f"持{p.license_class}类机动车驾驶证" if p.license_class else "未取得机动车驾驶证")
    text = "，".join(bits) + "，" + _vehicle_phrase(p, sep) + f"（所有人：{p.owner}）。"
    if p.insurance == "none":
        return text + "该车未投保机动车交通事故责任强制保险。"
    what = "机动车交通事故责任强制保险" if p.insurance == "full" else "交强险"
    text += f"该车在{p.ctpi_insurer}投保{what}（保单号：{p.ctpi_policy_no}）"
    if p.commercial_insurer:
        where = "该公司" if p.commercial_insurer == p.ctpi_insurer else p.commercial_insurer
        text += f"，并在{where}投保商业第三者责任保险，保险金额{p.commercial_limit // 10000}万元"
    return text + "，事故发生在保险期间内。"


def _road_text(o: Official) -> str:
    rng = o.rng
    wet = o.weather in ("小雨", "中雨", "小雪")
    surface = rng.choice(("沥青", "水泥"))
    state = "潮湿" if wet and o.weather != "小雪" else ("有积雪" if wet else "干燥")
    lanes = rng.choice(("双向两车道", "双向四车道", "双向六车道"))
    middle = rng.choice(("中心施划黄色虚线", "中心施划黄色实线", "中间设有隔离护栏", "无中心隔离"))
    light = (
        "白天"
        if 7 <= o.time.hour < 18
        else rng.choice(("夜间", "夜间，有路灯照明", "夜间，无路灯照明"))
    )
    sight = "视线良好" if o.weather in ("晴", "多云", "阴") else "视线较差"
    road = rng.choice(STREETS)
    if "线" in o.location:
        road = o.location.split("线")[0][-4:].lstrip("镇道区县市") + "线"
    return (
        f"事故路段{road}{rng.choice(('为', '系'))}{rng.choice(('东西', '南北'))}走向，"
        f"{lanes}，{middle}，"
        f"路面为{surface}路面，{state}。事故发生时天气{o.weather}，{light}，{sight}。"
    )


def _facts_text(o: Official, sep: str) -> str:
    rng = o.rng
    ps = o.parties
    road = rng.choice(STREETS)
    frm, to = rng.choice((("东", "西"), ("西", "东"), ("南", "北"), ("北", "南")))
    where = o.location.split("县")[-1].split("市")[-1].split("区")[-1]
    start = o.time_text
    movers = [p for p in ps if p.kind in ("drive", "ebike", "unknown")]
    walkers = [p for p in ps if p.kind == "walk"]
    riders = [p for p in ps if p.kind == "ride"]
    victims = [p for p in ps if p.kind in ("walk", "ride", "ebike")] or ps[1:] or ps
    hurt = "、".join(p.who for p in victims[:2])
    if movers and movers[0].kind == "unknown":
        other = ps[1]
        how = "步行" if other.kind == "walk" else "驾驶电动自行车行驶"
        text = (
            f"{start}，{other.name}沿{road}由{frm}向{to}{how}至{where}时，被同向行驶的一辆"
            f"{_vehicle_ref(movers[0], sep)}撞倒，造成{other.name}受伤的道路交通事故。"
            "事故发生后，肇事车辆驾驶人驾车逃逸。"
        )
        return text
    a = movers[0]
    carry = ""
    if riders and o.parties[riders[0].rides_with] is a:
        carry = f"搭载{riders[0].name}"
    text = (
        f"{start}，{a.name}{_vehicle_phrase(a, sep)}{carry}沿{road}由{frm}向{to}行驶至{where}时，"
    )
    actions = ["未按规定减速慢行，", "未注意观察前方路面情况，"]
    if a.liability in ("none", "minor"):  # the fault lies elsewhere: say nothing against A
        actions = ["", "正常行驶中，"]
    elif not walkers:
        actions += [
            "因变更车道未让所借车道内行驶的车辆先行，",
            "因左转弯未让直行车辆先行，",
            "因未与前车保持足以采取紧急制动措施的安全距离，",
        ]
    text += rng.choice(actions)
    if walkers and len(movers) == 1:
        w = walkers[0]
        text += f"遇{w.name}由{to}向{frm}步行横过道路，车辆前部与{w.name}发生碰撞"
    else:
        b = movers[1] if len(movers) > 1 else ps[1]
        extra = ""
        if riders and o.parties[riders[0].rides_with] is b:
            extra = f"（{riders[0].name}乘坐）"
        text += f"与{b.name}驾驶的{_vehicle_ref(b, sep)}{extra}发生碰撞"
        for c in movers[2:]:
            text += f"，{_vehicle_ref(b, sep)}被撞后又与{c.name}驾驶的{_vehicle_ref(c, sep)}相撞"
        for w in walkers:
            text += f"，{_vehicle_ref(b, sep)}被撞后又与在路边步行的{w.name}发生碰撞"
    text += f"，造成{hurt}受伤、车辆损坏的道路交通事故。"
    if a.caught:
        text += (
            f"事故发生后，{a.name}驾车驶离现场，于{a.caught.year}年{a.caught.month}月"
            f"{a.caught.day}日被公安机关查获。"
        )
    elif rng.random() < 0.5:
        call = rng.choice(("拨打122报警", "停车并报警求助", "拨打110、120求助"))
        text += f"事故发生后，{a.name}{call}。"
    return text


EVIDENCE = (
    "当事人陈述及询问笔录",
    "证人证言",
    "道路交通事故现场勘查笔录、现场图及现场照片",
    "事故路段监控视频",
    "车辆技术检验报告",
    "驾驶人呼气式酒精检测结果",
    "医疗机构诊断证明",
    "车辆痕迹比对鉴定意见",
)
FAULTS_OF = {
    "drive": (
        ("驾驶机动车未按规定减速慢行", "第四十二条第一款"),
        ("变更车道时影响相关车道内机动车的正常行驶", "第四十四条"),
        ("未与前车保持足以采取紧急制动措施的安全距离", "第四十三条"),
        ("行经路口时未让直行车辆先行", "第四十四条"),
        ("未确保安全通行", "第二十二条第一款"),
    ),
    "ebike": (
        ("驾驶电动自行车逆向行驶", "第三十五条"),
        ("驾驶电动自行车未在非机动车道内行驶", "第五十七条"),
    ),
    "walk": (("横过道路时未走人行横道", "第六十二条"), ("在机动车道内行走", "第六十一条")),
}


def _cause_text(o: Official, certificate: bool) -> list[str]:
    """Paragraphs of the evidence and analysis section."""
    rng = o.rng
    items = rng.sample(EVIDENCE, rng.randint(3, 6))
    if rng.random() < 0.5:
        paras = [f"{n}.{item}{'；' if n < len(items) else '。'}" for n, item in enumerate(items, 1)]
    else:
        paras = ["、".join(items) + "等证据证实以上事实。"]
    if certificate:
        a, b = o.parties[0], o.parties[1]
        paras.append(
            f"经调查，{a.who}与{b.who}对事故发生经过陈述不一致，事故路段无视频监控，亦无目击证人，"
            "经现场勘查及痕迹鉴定，无法确定事故发生时各方的行驶状态，事故成因无法查清。"
            "根据《道路交通事故处理程序规定》第六十七条之规定，出具本证明。"
        )
        return paras
    parts = []
    for p in o.parties:
        if p.liability in ("full", "main", "equal", "minor", "odd"):
            if p.kind == "unknown":
                parts.append(
                    "肇事车辆驾驶人发生交通事故后驾车逃逸，违反了《中华人民共和国道路交通安全法》"
                    "第七十条第一款之规定"
                )
                continue
            fault, article = rng.choice(FAULTS_OF.get(p.kind, FAULTS_OF["drive"]))
            extra = "，且发生交通事故后驾车逃逸" if p.caught else ""
            weight = {"full": "全部", "main": "主要", "minor": "次要"}.get(p.liability, "")
            role = f"是导致此事故发生的{weight}原因" if weight else "与对方过错作用相当"
            parts.append(
                f"{p.name}{fault}{extra}，违反了《中华人民共和国道路交通安全法》{article}之规定，{role}"
            )
        else:
            parts.append(f"{p.who}无导致此事故发生的过错行为")
    paras.append("；".join(parts) + "。")
    return paras


def _liability_text(o: Official, style: str) -> str:
    rng = o.rng
    grades = [p.liability for p in o.parties]
    item = ARTICLE_ITEM[
        max(grades, key=lambda g: ("none", "full", "main", "minor", "equal", "odd").index(g))
    ]
    basis = "根据" if rng.random() < 0.7 else "依据"
    law = ""
    if any(p.kind == "unknown" or p.caught for p in o.parties):
        law = "《中华人民共和国道路交通安全法实施条例》第九十二条第一款、"
    elif rng.random() < 0.3:
        law = "《中华人民共和国道路交通安全法实施条例》第九十一条、"
    head = f"{basis}{law}《道路交通事故处理程序规定》第六十条第一款第（{item}）项之规定，认定："
    clauses = []
    if style == "label" and o.labels:
        for p in o.parties:
            clauses.append(
                f"{p.label}无责任"
                if p.liability == "none"
                else f"{p.label}负{GRADES_ZH[p.liability]}责任"
            )
        return head + "，".join(clauses) + "。"
    if style == "grouped":
        groups: dict[str, list[str]] = {}
        for p in o.parties:
            groups.setdefault(p.liability, []).append(p.who)
        for grade, who in groups.items():
            names = "、".join(who)
            if grade == "none":
                clauses.append(f"{names}{rng.choice(('无责任', '不承担此事故的责任'))}")
            else:
                clauses.append(f"{names}承担此事故的{GRADES_ZH[grade]}责任")
        return head + "；".join(clauses) + "。"
    short = style == "short"
    for p in o.parties:
        if p.liability == "none":
            clauses.append(f"{p.who}{rng.choice(('无责任', '不承担此事故的责任'))}")
        elif short:
            clauses.append(f"{p.who}承担事故{GRADES_ZH[p.liability]}责任")
        else:
            clauses.append(f"{p.who}承担此事故的{GRADES_ZH[p.liability]}责任")
    return head + rng.choice(("；", "；", "，")).join(clauses) + "。"


NOTICE_GENERAL = (
    "当事人对本道路交通事故认定不服的，可以自认定书送达之日起三日内，向上一级公安机关交通管理部门"
    "书面申请复核，申请时应当写明复核请求、理由并附主要证据。",
    "就交通事故损害赔偿发生争议的，各方当事人可以在收到认定书之日起十日内共同向公安机关交通管理部门"
    "书面申请调解，也可以直接向人民法院提起民事诉讼。",
)
NOTICE_CERTIFICATE = (
    "当事人对本证明有异议的，可以自证明送达之日起三日内，向上一级公安机关交通管理部门提出书面复核申请。",
    "对损害赔偿有争议的，当事人可以申请人民调解委员会调解，也可以向人民法院提起民事诉讼。",
)
FOOTERS = ("第{n}页 共{total}页", "第 {n} 页", "- {n} -", "{n}/{total}", "第{n}页，共{total}页")


def _plant(o: Official, faults: tuple[str, ...]) -> None:
    """Plant FAULTS into the letter before it is worded; records the warnings they cause."""
    for fault in faults:
        if fault == "bad_id":
            n, p = next((n, p) for n, p in enumerate(o.parties) if p.id_number)
            p.id_number = p.id_number[:17] + ("1" if p.id_number[17] != "1" else "2")
            o.planted.append({"field": f"parties[{n}].id_number"})
        elif fault == "bad_plate":
            hit = next(((n, p) for n, p in enumerate(o.parties) if p.plate), None)
            if hit:
                hit[1].plate = "晋JI0O12"
                o.planted.append({"field": f"parties[{hit[0]}].plate"})
        elif fault == "odd_liability":
            n, p = next(
                (n, p) for n, p in enumerate(o.parties) if p.liability not in (None, "none")
            )
            p.liability = "odd"
            o.planted.append({"field": f"parties[{n}].liability"})
        elif fault == "bad_time":
            o.time_override = f"{o.time.year}年13月45日8时"
            o.planted.append({"field": "accident_time"})
        elif fault == "scan_page":
            o.planted.append({"field": "pages"})
        else:
            raise ValueError(f"unknown fault {fault!r}")


def _expected_official(o: Official, procedure: str, *, table: bool = False) -> dict:
    parties = []
    for p in o.parties:
        liability = None if procedure == "certificate" or p.liability == "odd" else p.liability
        prose = not table and procedure != "simple"
        parties.append(
            {
                "label": p.label if o.labels else None,
                "name": p.name,
                "gender": p.gender if procedure != "simple" else None,
                "id_number": p.id_number,
                "phone": p.phone,
                "license_no": None,
                "traffic_mode": p.traffic_mode,
                "plate": p.plate,
                "vehicle_type": p.vehicle_type if p.drives else None,
                "ctpi_insurer": p.ctpi_insurer,
                "ctpi_policy_no": p.ctpi_policy_no,
                "commercial_insurer": p.commercial_insurer,
                "commercial_limit": str(p.commercial_limit) if p.commercial_limit else None,
                "liability": liability,
                "age": None,
                "address": p.address if prose else None,
                "owner": p.owner if prose and p.kind == "drive" else None,
            }
        )
    return {
        "document_no": o.document_no,
        "issuer": o.issuer,
        "procedure": procedure,
        "accident_time": None if o.time_override else o.time.strftime("%Y-%m-%dT%H:%M:00+08:00"),
        "accident_date": None if o.time_override else o.time.date().isoformat(),
        "location": o.location,
        "weather": o.weather,
        "issue_date": o.issue.isoformat(),
        "year": o.year,
        "accident_form": None,
        "parties": parties,
        "facts": clean(o.facts),
        "cause": clean(o.cause) if procedure != "simple" else None,
        "liability_text": clean(o.liability_text) if procedure != "certificate" else None,
        "warnings": o.planted,
    }


# --- general letters and certificates ------------------------------------------------------


def _producer(rng: random.Random) -> dict:
    """How one producer sets text: LibreOffice, Chromium or reportlab."""
    kind = rng.choice(("lo", "chromium", "reportlab"))
    if kind == "lo":
        return {
            "kind": kind,
            "justify": True,
            "keep_runs": rng.random() < 0.4,
            "autospace": rng.random() < 0.6,
            "radicals": False,
        }
    if kind == "chromium":
        return {
            "kind": kind,
            "justify": True,
            "keep_runs": True,
            "autospace": False,
            "radicals": rng.random() < 0.5,
        }
    return {
        "kind": kind,
        "justify": False,
        "keep_runs": False,
        "autospace": False,
        "radicals": False,
    }


def _render_general(
    o: Official,
    *,
    certificate: bool = False,
    party_table: Grid | None = None,
    faults: tuple[str, ...] = (),
) -> tuple[bytes, dict]:
    rng = o.rng
    prod = _producer(rng)
    seal_only = not party_table and rng.random() < 0.15
    footer = rng.choice((None, *FOOTERS))
    size = rng.choice((10.5, 10.5, 11.0, 12.0))
    margin = rng.choice((64.0, 72.0, 80.0))
    letter = Letter(
        size=size,
        justify=prod["justify"],
        keep_runs=prod["keep_runs"],
        autospace=prod["autospace"],
        radicals=prod["radicals"],
        footer=footer,
        kinsoku=prod["kind"] != "reportlab",
        left=margin,
        right=margin,
    )
    sep = "·" if rng.random() < 0.85 else ""
    title = "道路交通事故证明" if certificate else "道路交通事故认定书"
    if not seal_only:
        letter.line(o.issuer, size + 3, "center")
    else:
        o.issuer = None
    spaced = rng.random() < 0.4
    letter.line(title, 20, "center", spacing=7.0 if spaced else 0.0)
    letter.line(o.number, size + 1, "center")
    letter.gap(4)
    when = o.time_override or o.time_text
    letter.para(f"交通事故时间：{when}", indent=0)
    letter.para(f"交通事故地点：{o.location}", indent=0)
    letter.line("当事人、车辆、道路和交通环境等基本情况：", tag=("heading", "basic"))
    if party_table is not None:
        letter.grid(party_table)
    else:
        break_numbers = not letter.keep_runs and rng.random() < 0.7
        for n, p in enumerate(o.parties):
            letter.para(_party_paragraph(o, letter, p, n, sep, break_numbers))
    letter.para(_road_text(o))
    o.facts = _facts_text(o, sep)
    letter.line("道路交通事故发生经过：", tag=("heading", "facts"))
    letter.para(o.facts, tag=("facts",))
    paras = _cause_text(o, certificate)
    o.cause = "".join(paras)
    heading = "道路交通事故证据及事故形成原因分析："
    if certificate and rng.random() < 0.6:
        heading = "道路交通事故证据："
    letter.line(heading, tag=("heading", "cause"))
    for text in paras:
        listed = re.match(r"\d+\.", text) is not None
        letter.para(text, indent=0 if listed else 2, tag=("cause",))
    if not certificate:
        letter.line("当事人导致交通事故的过错及责任或者意外原因：", tag=("heading", "liability"))
        styles = ["name", "grouped", "short"] + (["label", "label"] if o.labels else [])
        o.liability_text = _liability_text(o, rng.choice(styles))
        letter.para(o.liability_text, tag=("liability",))
    letter.gap(6)
    police = [f"{n}（警号{rng.randint(140100, 149999)}）" for n in o.officers]
    if rng.random() < 0.4:
        police = list(o.officers)
    letter.line(
        "交通警察：" + rng.choice(("  ", " ", "、")).join(police),
        align=rng.choice(("left", "right")),
    )
    letter.gap(4)
    letter.line(
        official_date(o.issue, o.zh_issue),
        align="right",
        seal=_seal(o.place[1]),
    )
    letter.gap(8)
    for text in NOTICE_CERTIFICATE if certificate else NOTICE_GENERAL:
        letter.para(text, size=size - 1.5, indent=2)
    want = rng.choice(("facts", "liability", "liability", "heading:liability", None))
    if certificate:
        want = want and want.replace("liability", "cause")
    data = letter.render(rng, want, scan_page="scan_page" in faults)
    return data, _expected_official(
        o, "certificate" if certificate else "general", table=party_table is not None
    )


def _make_official_prose(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    rng = random.Random(f"official_prose/kinds:{seed}")
    kinds = rng.choice(
        (
            ["drive", "drive"],
            ["drive", "walk"],
            ["drive", "ebike"],
            ["drive", "drive", "ride"],
            ["tractor", "moto", "ride"],
            ["drive", "drive", "drive"],
            ["uninsured", "drive"],
            ["moto", "drive"],
        )
    )
    o = _official(seed, "official_prose", kinds)
    n = len(kinds)
    if n == 2:
        options = [
            ("full", "none"),
            ("main", "minor"),
            ("equal", "equal"),
            ("none", "full"),
            ("minor", "main"),
        ]
    elif "ride" in kinds:
        options = [("main", "minor", "none"), ("full", "none", "none"), ("equal", "equal", "none")]
    else:
        options = [("main", "minor", "none"), ("full", "none", "none"), ("equal", "equal", "none")]
    _assign_liability(o, options)
    o.party_style = o.rng.choice(("prose", "role", "list", "label"))
    if o.party_style == "label" or (n == 3 and "ride" not in kinds and o.rng.random() < 0.5):
        o.party_style = "label"
        _use_labels(o)
    _plant(o, faults)
    return _render_general(o, faults=faults)


def _make_certificate(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    rng = random.Random(f"certificate/kinds:{seed}")
    kinds = rng.choice((["drive", "walk"], ["drive", "drive"], ["drive", "ebike"]))
    o = _official(seed, "certificate", kinds)
    o.party_style = o.rng.choice(("prose", "role", "list", "label"))
    if o.party_style == "label":
        _use_labels(o)
    _plant(o, tuple(f for f in faults if f != "odd_liability"))
    return _render_general(o, certificate=True, faults=faults)


def _make_hit_and_run(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    rng = random.Random(f"hit_and_run/kinds:{seed}")
    if seed % 2 == 0:  # the driver was never found
        o = _official(seed, "hit_and_run", ["unknown", rng.choice(("walk", "ebike"))])
        o.party_style = o.rng.choice(("prose", "role"))
    else:  # the driver fled and was caught days later
        o = _official(seed, "hit_and_run", ["drive", rng.choice(("walk", "ebike", "drive"))])
        o.parties[0].caught = o.time.date() + dt.timedelta(days=o.rng.randint(1, 6))
        o.issue = max(o.issue, o.parties[0].caught + dt.timedelta(days=10))
        o.party_style = o.rng.choice(("prose", "role", "list"))
    _assign_liability(o, [("full", "none")])
    _plant(o, faults)
    return _render_general(o, faults=faults)


def _make_word_table(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    rng = random.Random(f"word_table_parties/kinds:{seed}")
    o = _official(
        seed, "word_table_parties", ["drive", "ebike", "ride", rng.choice(("drive", "walk"))]
    )
    _assign_liability(
        o,
        [
            ("main", "minor", "none", "none"),
            ("full", "none", "none", "none"),
            ("equal", "equal", "none", "none"),
        ],
    )
    _use_labels(o)
    o.party_style = "label"
    _plant(o, faults)
    sep = "·" if o.rng.random() < 0.85 else ""
    size = 10.5
    grid = Grid([96.0, 170.0, 72.0, 113.0], size=size, pad=3.0)
    slash_rows = o.rng.random() < 0.5
    for p in o.parties:
        grid.row("当事人", f"{p.label} {p.name}", "性别", p.gender)
        id_label = o.rng.choice(("居民身份证号码", "居民身份证号码", "身份证号码"))
        grid.row(id_label, p.id_number, "联系电话", p.phone or "/")
        mode = p.traffic_mode
        if p.kind == "ride":
            host = o.parties[p.rides_with]
            mode = "乘坐" + (host.vehicle_type or "")
        grid.row("交通方式", mode, "号牌号码", _plate_of(p, sep) or "/")
        if p.kind == "drive":
            if p.insurance == "none":
                grid.row("交强险承保公司", "未投保", "保单号", "/")
            else:
                grid.row("交强险承保公司", p.ctpi_insurer, "保单号", p.ctpi_policy_no)
            if p.commercial_insurer:
                text = f"{p.commercial_insurer}，保险金额{p.commercial_limit // 10000}万元"
            else:
                text = "未投保"
            grid.row("商业三者险", Cell(text, colspan=3))
        elif slash_rows:
            grid.row("交强险承保公司", "/", "保单号", "/")
    return _render_general(o, party_table=grid, faults=faults)


# --- simple-procedure forms ----------------------------------------------------------------


def _simple_liability(o: Official) -> str:
    rng = o.rng
    reasons = []
    for p in o.parties:
        if p.liability in ("none", None):
            continue
        fault, _ = rng.choice(FAULTS_OF.get(p.kind, FAULTS_OF["drive"]))
        reasons.append(f"{p.label}{fault}")
    head = "，".join(reasons) + "。" if reasons else ""
    clauses = []
    for p in o.parties:
        if p.liability == "none":
            clauses.append(f"{p.label}无责任")
        else:
            clauses.append(f"{p.label}负{GRADES_ZH[p.liability]}责任")
    return head + rng.choice(("，", "；")).join(clauses) + "。"


def _simple_facts(o: Official, sep: str) -> str:
    a, b = o.parties[0], o.parties[1]
    road = o.rng.choice(STREETS)
    text = f"{o.time_text}，{a.label}{a.name}{_vehicle_phrase(a, sep)}沿{road}行驶至事故地点时，"
    if b.kind == "walk":
        text += f"与横过道路的{b.label}{b.name}发生碰撞，造成{b.name}轻微伤。"
    else:
        text += f"与{b.label}{b.name}驾驶的{_vehicle_ref(b, sep)}发生刮擦，造成两车不同程度损坏。"
    for c in o.parties[2:]:
        text += f"{c.label}{c.name}驾驶的{_vehicle_ref(c, sep)}随后与前车相撞。"
    return text


def _mediation(o: Official) -> str:
    a, b = o.parties[0], o.parties[1]
    return o.rng.choice(
        (
            f"经调解，{a.label}一次性赔偿{b.label}各项损失人民币{o.rng.randint(3, 60) * 100}元，"
            "当场结清，双方再无争议。",
            "各方自行承担本方损失，双方无其他争议。",
            f"由{a.label}一方的保险公司在交强险财产损失赔偿限额内赔偿{b.label}车辆损失，双方无异议。",
        )
    )


def _simple_parties(seed: int, salt: str) -> Official:
    rng = random.Random(f"{salt}/kinds:{seed}")
    kinds = rng.choice(
        (["drive", "drive"], ["drive", "ebike"], ["drive", "walk"], ["drive", "drive", "drive"])
    )
    o = _official(seed, salt, kinds, simple=True)
    if len(kinds) == 2:
        _assign_liability(
            o, [("full", "none"), ("main", "minor"), ("equal", "equal"), ("none", "full")]
        )
    else:
        _assign_liability(
            o, [("equal", "equal", "none"), ("full", "none", "none"), ("main", "minor", "none")]
        )
    _use_labels(o)
    return o


def _simple_letter(o: Official) -> Letter:
    letter = Letter(size=10.5, left=46.0, right=46.0)
    letter.line(o.issuer, 14, "center")
    letter.line("道路交通事故认定书（简易程序）", 17, "center")
    letter.line(o.number, 10.5, o.rng.choice(("center", "right")))
    letter.gap(4)
    return letter


def _vehicle_cell(p: Person, sep: str) -> str:
    return f"{p.vehicle_type} {_plate_of(p, sep)}" if p.plate else "/"


def _make_simple_row_table(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    o = _simple_parties(seed, "simple_row_table")
    for p in o.parties:  # this form has no row for the commercial policy
        p.commercial_insurer = p.commercial_limit = None
    _plant(o, faults)
    rng = o.rng
    sep = "·"
    o.facts = _simple_facts(o, sep)
    o.liability_text = _simple_liability(o)
    letter = _simple_letter(o)
    widths = [30.0, 44.0, 74.0, 58.0, 52.0, 70.0, 88.0, 87.0]
    grid = Grid(widths, size=9.0)
    when = o.time_override or o.time_text
    two = rng.random() < 0.5
    grid.row(
        Cell("事故时间" if not two else "交通事故时间", align="center"),
        Cell(when, colspan=4),
        Cell("天气", align="center"),
        Cell(o.weather, colspan=2),
    )
    grid.row(Cell("事故地点", align="center"), Cell(o.location, colspan=7))
    grid.row(
        *[
            Cell(t, align="center")
            for t in (
                "当事人",
                "姓名",
                "驾驶证或身份证号码",
                "联系电话",
                "交通方式",
                "机动车型号、号牌",
                "保险公司",
                "保险凭证号",
            )
        ]
    )
    for p in o.parties:
        grid.row(
            Cell(p.label, align="center"),
            p.name,
            p.id_number,
            p.phone or "/",
            p.traffic_mode,
            _vehicle_cell(p, sep),
            p.ctpi_insurer or "/",
            p.ctpi_policy_no or "/",
        )
    grid.row(Cell("交通事故事实", align="center"), Cell(o.facts, colspan=7))
    grid.row(Cell("当事人责任", align="center"), Cell(o.liability_text, colspan=7))
    grid.row(Cell("损害赔偿调解结果", align="center"), Cell(_mediation(o), colspan=7))
    grid.row(
        Cell("当事人签名", align="center"),
        Cell(
            "当事人对交通事故事实及责任无异议，签名确认。",
            colspan=7,
            signatures=tuple((p.label, p.name) for p in o.parties),
        ),
    )
    police = f"{o.officers[0]} 警号：{rng.randint(140100, 149999)}"
    grid.row(
        Cell("交通警察", align="center"),
        Cell(police, colspan=3),
        Cell("日期", align="center"),
        Cell(official_date(o.issue, o.zh_issue), colspan=3, seal=_seal(o.issuer)),
    )
    letter.grid(grid)
    letter.gap(4)
    letter.para(
        "注：当事人对交通事故损害赔偿有争议的，可以申请人民调解委员会调解，或者直接向人民法院提起民事诉讼。",
        size=9,
        indent=0,
    )
    data = letter.render(rng, None, scan_page="scan_page" in faults)
    return data, _expected_official(o, "simple")


def _make_simple_block_grid(seed: int, faults: tuple[str, ...]) -> tuple[bytes, dict]:
    o = _simple_parties(seed, "simple_block_grid")
    _plant(o, faults)
    rng = o.rng
    sep = "·" if rng.random() < 0.8 else ""
    o.facts = _simple_facts(o, sep)
    o.liability_text = _simple_liability(o)
    commercial_row = rng.random() < 0.5
    if not commercial_row:
        for p in o.parties:
            p.commercial_insurer = p.commercial_limit = None
    letter = _simple_letter(o)
    widths = [40.0, 54.0, 110.0, 62.0, 82.0, 44.0, 58.0]
    grid = Grid(widths, size=9.0)
    when = o.time_override or o.time_text
    grid.row(
        Cell("交通事故时间", align="center"),
        Cell(when, colspan=3),
        Cell("天气", align="center"),
        Cell(o.weather, colspan=2),
    )
    grid.row(Cell("交通事故地点", align="center"), Cell(o.location, colspan=6))
    for p in o.parties:
        span = 4 if commercial_row else 3
        grid.row(
            Cell(p.label, rowspan=span, align="center"),
            "姓名",
            p.name,
            "驾驶证或身份证号码",
            p.id_number,
            "联系电话",
            p.phone or "/",
        )
        grid.row(
            "交通方式", p.traffic_mode, "机动车型号、号牌", Cell(_vehicle_cell(p, sep), colspan=3)
        )
        grid.row(
            "保险公司",
            Cell(p.ctpi_insurer or "/", colspan=2),
            "保险凭证号",
            Cell(p.ctpi_policy_no or "/", colspan=2),
        )
        if commercial_row:
            text = "/"
            if p.commercial_insurer:
                text = f"{p.commercial_insurer}（保险金额{p.commercial_limit // 10000}万元）"
            grid.row("商业三者险", Cell(text, colspan=5))
    grid.row(Cell("交通事故事实", align="center"), Cell(o.facts, colspan=6))
    grid.row(Cell("当事人责任", align="center"), Cell(o.liability_text, colspan=6))
    grid.row(Cell("损害赔偿调解结果", align="center"), Cell(_mediation(o), colspan=6))
    grid.row(
        Cell("当事人签名", align="center"),
        Cell(
            "当事人对交通事故事实及责任无异议，签名确认。",
            colspan=6,
            signatures=tuple((p.label, p.name) for p in o.parties),
        ),
    )
    police = f"{o.officers[0]}（警号：{rng.randint(140100, 149999)}）"
    grid.row(
        Cell("交通警察", align="center"),
        Cell(police, colspan=3),
        Cell(official_date(o.issue, o.zh_issue), colspan=3, seal=_seal(o.issuer)),
    )
    letter.grid(grid)
    letter.gap(4)
    letter.para(
        "注：当事人对交通事故损害赔偿有争议的，可以申请人民调解委员会调解，或者直接向人民法院提起民事诉讼。",
        size=9,
        indent=0,
    )
    data = letter.render(rng, None, scan_page="scan_page" in faults)
    return data, _expected_official(o, "simple")


OFFICIAL_VARIANTS = {
    "official_prose": _make_official_prose,
    "certificate": _make_certificate,
    "hit_and_run": _make_hit_and_run,
    "simple_row_table": _make_simple_row_table,
    "simple_block_grid": _make_simple_block_grid,
    "word_table_parties": _make_word_table,
}


# --- scans ---------------------------------------------------------------------------------


def make_scan(
    variant: str, seed: int = 0, dpi: int = 200, angle: float = 1.0
) -> tuple[bytes, dict]:
    """A generated letter printed and scanned: its pages rendered at `dpi`, turned by about
    `angle` degrees, with paper tint, noise and JPEG compression, in an image-only PDF. The
    expected answer is the letter's, plus `"source": "ocr"`."""
    import numpy as np
    import pypdfium2

    data, expected = make_report(variant, seed)
    rng = np.random.default_rng(seed * 7 + dpi)
    pdf = pypdfium2.PdfDocument(data)
    pages = []
    try:
        for i in range(len(pdf)):
            image = pdf.get_page(i).render(scale=dpi / 72).to_pil().convert("RGB")
            turn = angle + float(rng.uniform(-0.15, 0.15))
            image = image.rotate(
                turn, resample=Image.BICUBIC, expand=False, fillcolor=(250, 248, 240)
            )
            pixels = np.asarray(image, dtype=np.float32)
            pixels = pixels * np.array([0.98, 0.97, 0.93], dtype=np.float32)  # paper tint
            pixels += rng.normal(0.0, 6.0, pixels.shape[:2])[..., None]
            specks = rng.random(pixels.shape[:2]) < 0.0004
            pixels[specks] = 40.0
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            jpeg = io.BytesIO()
            image.save(jpeg, "JPEG", quality=72)
            pages.append(Image.open(io.BytesIO(jpeg.getvalue())))
    finally:
        pdf.close()
    out = io.BytesIO()
    fixed = dt.datetime(2024, 1, 1).timetuple()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(dpi),
        creationDate=fixed,
        modDate=fixed,
    )
    return out.getvalue(), {**expected, "source": "ocr"}


# --- bad files -----------------------------------------------------------------------------


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _bomb(gib: int = 4) -> bytes:
    """A small PDF whose page content is a FlateDecode stream inflating to `gib` GiB of zeros."""
    chunk = bytes(1 << 20)
    comp = zlib.compressobj(9)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor state is reset, so every further MiB compresses to
    # the same bytes: repeat them instead of compressing gigabytes.
    repeat = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    total = gib << 30
    adler = ((total % 65521) << 16) | 1  # adler32 of n zero bytes: A = 1, B = n mod 65521
    final = b"\x01\x00\x00\xff\xff" + adler.to_bytes(4, "big")  # empty final stored block
    stream = first + repeat * ((total >> 20) - 1) + final
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
        ]
    )


def _png(text: str) -> bytes:
    image = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(image)
    draw.text((30, 100), text, fill=0, font=ImageFont.truetype(FONT_PATH, 48, index=0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _scan() -> bytes:
    """An image-only PDF with nothing an OCR engine could read: a blank sheet of paper with
    a little tint and dust, and a page of pure noise. The parser must answer no_text_layer."""
    import numpy as np

    rng = np.random.default_rng(5)
    blank = np.full((1169, 827, 3), (246, 243, 232), dtype=np.float32)
    blank += rng.normal(0.0, 4.0, blank.shape[:2])[..., None]
    blank[rng.random(blank.shape[:2]) < 0.0003] = 90.0
    noise = rng.integers(0, 256, (1169, 827), dtype=np.uint8)
    pages = [
        Image.fromarray(np.clip(blank, 0, 255).astype(np.uint8)),
        Image.fromarray(noise).convert("RGB"),
    ]
    out = io.BytesIO()
    fixed = dt.datetime(2024, 1, 1).timetuple()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=100.0,
        creationDate=fixed,
        modDate=fixed,
    )
    return out.getvalue()


def _invoice() -> bytes:
    s = Sheet()
    s.line("山西省医疗收费票据（电子）", 16, "center")
    s.line("票据代码：14060122  票据号码：0012345678  开票日期：2023年05月13日", 9)
    s.line("交款人：张伟  医保类型：城镇职工  住院号：202305130021", 9)
    s.table(
        [
            [("项目名称", 1), ("金额（元）", 1), ("项目名称", 1), ("金额（元）", 1)],
            [("西药费", 1), ("1234.50", 1), ("检查费", 1), ("860.00", 1)],
            [("治疗费", 1), ("420.00", 1), ("床位费", 1), ("150.00", 1)],
            [("合计（大写）", 1), ("贰仟陆佰陆拾肆元伍角", 1), ("合计（小写）", 1), ("2664.50", 1)],
        ],
        [120, 120, 120, 135],
    )
    s.line("收款单位（章）：吕梁市人民医院  收款人：李娜", 9)
    return s.finish()


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", "<w:document>道路交通事故认定书</w:document>")
    return out.getvalue()


def make_bad(kind: str) -> bytes:
    """A file the parser must refuse; `BAD_CODES[kind]` is the expected error code."""
    if kind == "scan":
        return _scan()
    if kind == "encrypted":
        s = Sheet(encrypt=StandardEncryption("user", "owner"))
        s.line("道路交通事故认定书", 20, "center")
        s.line("吕公交认字〔2023〕第00123号", 12, "center")
        return s.finish()
    if kind == "truncated":
        data = make_report("general_table", 1)[0]
        return data[: int(len(data) * 0.6)]
    if kind == "garbled":
        # Header and trailer look right, but the cross-reference points into noise.
        noise = random.Random(7).randbytes(4000)
        return b"%PDF-1.7\n" + noise + b"\nstartxref\n123456\n%%EOF\n"
    if kind == "png":
        return _png("道路交通事故认定书")
    if kind == "docx":
        return _docx()
    if kind == "empty":
        return b""
    if kind == "invoice":
        return _invoice()
    if kind == "bomb":
        return _bomb()
    if kind == "oversize":
        data = make_report("general_table", 2)[0]
        return data + b"\n%" + b"0" * (20 * 1024 * 1024)
    raise ValueError(f"unknown kind {kind!r}")
