"""Names, identity numbers, credit codes, phones, accounts and addresses for the second world."""

from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌云飞燕丹玲亮宇浩然"
    "思佳欣怡晨阳雪梅海波春林宏伟晓东俊峰婷婷倩琳莉薇颖琴慧鑫磊凯旭东昊天子涵梓轩一诺雨欣紫萱"
)
# Region codes of the fictional 楚江市 (prefix 4210xx), and of a few places staff come from.
REGIONS = ("421002", "421003", "421022", "421023", "421024", "421081", "421083", "421087", "420106")
BANKS = (
    ("中国工商银行楚江分行营业部", "1812"),
    ("中国建设银行楚江江城支行", "4205"),
    ("中国农业银行楚江分行", "1745"),
    ("中国银行楚江分行", "5702"),
    ("湖北银行楚江分行", "6210"),
    ("楚江农村商业银行城区支行", "8201"),
    ("交通银行楚江分行", "4216"),
)
STREETS = (
    "荆楚大道",
    "江汉路",
    "长江路",
    "沙市大道",
    "北京路",
    "航空路",
    "江津路",
    "红门路",
    "塔桥路",
    "园林路",
    "三湾路",
    "太岳路",
    "东方大道",
    "郢都路",
    "荆州大道",
    "楚源路",
    "凤凰路",
    "学堂街",
)
DISTRICTS = ("江城区", "楚南区", "东津区", "安陵县", "石门县", "青林县", "白河县", "临江市")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check(first17: str) -> str:
    """Check character of a mainland resident identity number (GB 11643)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def id_valid(number: str) -> bool:
    """True for an 18-character number with a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return id_check(number[:17]) == number[17].upper()


def uscc_check(first17: str) -> str:
    """Check character of a unified social credit code (GB 32100)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _org_code(rng: random.Random) -> str:
    """Nine-character organisation code with its GB 11714 check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


class Ids:
    """Unique identifiers drawn from one seeded stream (never the same phone or account twice)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def person_name(self) -> str:
        """A two- or three-character Chinese name (names may repeat, as they do)."""
        r = self.rng
        given = r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.7 else "")
        return r.choice(SURNAMES) + given

    def id_number(self, *, born_from: int = 1960, born_to: int = 1998, female: bool | None = None):
        """A valid 18-character identity number; returns (number, sex)."""
        r = self.rng
        if female is None:
            female = r.random() < 0.62  # nurses outnumber doctors on the front line

        def make():
            born = date(born_from, 1, 1) + timedelta(days=r.randrange((born_to - born_from) * 365))
            seq = r.randrange(0, 100) * 10 + (
                r.choice((0, 2, 4, 6, 8)) if female else r.choice((1, 3, 5, 7, 9))
            )
            first = f"{r.choice(REGIONS)}{born:%Y%m%d}{seq:03d}"
            return first + id_check(first)

        return self._unique(make), ("女" if female else "男")

    def mobile(self) -> str:
        r = self.rng
        return self._unique(
            lambda: r.choice(("13", "15", "18", "17", "19")) + f"{r.randrange(10**9):09d}"
        )

    def landline(self) -> str:
        r = self.rng
        return self._unique(lambda: f"0716-{r.randrange(8000000, 8999999)}")

    def card(self) -> str:
        """A personal debit card number (19 digits)."""
        r = self.rng
        return self._unique(lambda: "6217" + f"{r.randrange(10**15):015d}")

    def account(self) -> tuple[str, str]:
        """A company or institution account: (bank, number)."""
        r = self.rng
        bank, prefix = r.choice(BANKS)
        number = self._unique(lambda: prefix + f"{r.randrange(10**15):015d}")
        return bank, number

    def uscc(self, *, kind: str = "company", region: str | None = None) -> str:
        """A valid unified social credit code; kind company (91…) or institution (12…)."""
        r = self.rng
        head = "91" if kind == "company" else "12"

        def make():
            first = head + (region or r.choice(REGIONS)) + _org_code(r)
            return first + uscc_check(first)

        return self._unique(make)

    def invoice(self) -> tuple[str, str]:
        """A VAT invoice: (code, number); numbers never repeat in one world."""
        r = self.rng
        number = self._unique(lambda: f"{r.randrange(10**7, 10**8)}")
        return f"0{r.choice(('42', '44', '33'))}00{r.randrange(191000, 199999)}", number

    def home_address(self) -> str:
        r = self.rng
        return self._unique(
            lambda: (
                f"楚江市{r.choice(DISTRICTS[:3])}{r.choice(STREETS)}{r.randrange(1, 400)}号"
                f"{r.randrange(1, 30)}栋{r.randrange(1, 6)}单元{r.randrange(1, 30)}0{r.randrange(1, 5)}室"
            )
        )

    def office_address(self, city: str = "楚江市") -> str:
        r = self.rng
        return self._unique(
            lambda: (
                f"{city}{r.choice(DISTRICTS)}{r.choice(STREETS)}{r.randrange(1, 900)}号"
                + r.choice(
                    (
                        "",
                        "",
                        f"{r.randrange(1, 30)}楼",
                        f"{r.choice('ABCD')}座{r.randrange(1, 25)}层",
                    )
                )
            )
        )
