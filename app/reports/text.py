"""Character normalisation: what the grammar sees for each character drawn on the page.

Letters reach us from many producers, and the same character arrives under several code points:
full-width digits and letters, Kangxi radicals (U+2F00…) and CJK-radical-supplement characters
(U+2E80…) that Chromium with Noto CJK writes into the ToUnicode map instead of common ideographs
(`⼤` for 大, `⻋` for 车), compatibility ideographs, and OCR's look-alikes. `normalize` folds them
all to one form; whitespace carries no meaning in these letters and is dropped.
"""

from __future__ import annotations

import unicodedata

# Whitespace: LibreOffice and Chromium stretch justified lines with a space between characters,
# titles are letter-spaced, and CJK↔Latin autospacing adds more.
SPACES = frozenset(
    " \t\r\n\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
)

# NFKC leaves the CJK Radicals Supplement alone; each maps to the ideograph it stands for
# (Unicode's EquivalentUnifiedIdeograph.txt, simplified forms where the radical is one).
RADICALS_SUPPLEMENT = dict(
    zip(
        "⺁⺄⺅⺆⺇⺉⺊⺌⺍⺎⺐⺒⺓⺔⺕⺖⺘⺙⺛⺜⺝⺟⺠⺡⺢⺣⺤⺥⺦⺧⺨⺩⺪⺫⺬⺭⺮⺯⺰⺱⺶⺷⺸⺹⺺⺻⺼⺽⺾⺿⻀⻁⻂⻃⻄⻅⻆"
        "⻈⻉⻋⻌⻍⻎⻏⻐⻑⻓⻔⻖⻗⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
        "厂乙亻冂几刂卜小小兀尢巳幺彑彐忄扌攵旡日月母民氵氺灬爫爫丬牛犭王疋罒示礻竹糸纟罒羊羊羊耂肀聿月臼艹艹艹虎衤覀西见角"
        "讠贝车辶辶辶阝钅長长门阝雨青韦页风飞食飠饣马骨鬼鱼鸟卤麦黄黾齐齿龙龟",
        strict=True,
    )
)
# Kangxi radicals whose NFKC form is a traditional or variant character, where a simplified
# letter means the common one (README of the corpus: `⼾` in 商⼾ is 户, not 戶).
KANGXI_OVERRIDES = {"⼾": "户", "⾭": "青", "⻘": "青"}


def _table() -> dict[str, str]:
    table = dict(RADICALS_SUPPLEMENT)
    for code in range(0x2F00, 0x2FD6):  # Kangxi radicals
        char = chr(code)
        table[char] = KANGXI_OVERRIDES.get(char) or unicodedata.normalize("NFKC", char)
    table.update(
        {
            "\u2212": "-",  # minus sign
            "—": "—",
            "○": "〇",  # WHITE CIRCLE, often typed for the zero of Chinese dates
            "◯": "〇",
            "丶": "、",  # OCR reads the enumeration comma as the radical 丶
            "﹝": "〔",
            "﹞": "〕",
        }
    )
    return table


FOLD = _table()
# Chinese punctuation is kept as written; NFKC would turn （，：） into ASCII, so it is applied
# only to the characters below (full-width digits and letters, compatibility ideographs).
KEEP = frozenset("，：；（）！？、。“”‘’《》〈〉〔〕【】［］「」『』·・—…～")


def normalize(text: str) -> str:
    """The grammar's form of drawn text: folded characters, no whitespace."""
    out = []
    for char in text:
        if char in SPACES:
            continue
        folded = FOLD.get(char)
        if folded is None:
            if char.isascii() or char in KEEP:
                folded = char
            else:
                folded = unicodedata.normalize("NFKC", char)
                if folded.isspace() or not folded:
                    continue
                if len(folded) > 1 and not folded.isascii():
                    folded = char  # keep ligature-like expansions (㈠ → (一)) as drawn
        out.append(folded)
    return "".join(out)


def squeeze(text: str) -> str:
    """The text without whitespace."""
    return "".join(ch for ch in text if ch not in SPACES)
