"""Synthetic 道路交通事故认定书 PDFs, each with the parse we expect from it.

`make_report(variant, seed)` draws a report with reportlab and the embedded CJK TrueType font and
returns `(pdf_bytes, expected)`, where `expected` is the parser output minus `provenance`.
`make_bad(kind)` returns a file the parser must refuse; `BAD_CODES` names the error code for each.
Everything is deterministic for a seed (reportlab's invariant mode fixes dates and ids).

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
"""

from __future__ import annotations

import datetime as dt
import io
import random
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


def _expected(r: Report, procedure: str, shown: dict, accident_form: str | None) -> dict:
    parties = []
    for p in r.parties:
        parties.append(
            {
                "label": p.label,
                "name": p.name,
                "gender": p.gender if procedure == "general" else None,
                "id_number": p.id_number,
                "phone": p.phone,
                "license_no": p.license_no if procedure == "general" else None,
                "traffic_mode": p.traffic_mode,
                "plate": p.plate,
                "vehicle_type": p.vehicle_type if p.plate or procedure == "general" else None,
                "ctpi_insurer": p.ctpi_insurer,
                "ctpi_policy_no": p.ctpi_policy_no,
                "commercial_insurer": p.commercial_insurer if procedure == "general" else None,
                "commercial_limit": (
                    f"{p.commercial_limit:.2f}"
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
        "facts": r.facts,
        "cause": r.cause or None,
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
    _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for line in ("道路交通事故认定书", "吕公交认字〔2023〕第00123号"):
        c.drawImage(ImageReader(io.BytesIO(_png(line))), 60, 600, width=480, height=160)
        c.showPage()
    c.save()
    return buf.getvalue()


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
