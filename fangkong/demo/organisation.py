"""The demo organisation: 湖北省审计厅 with its city and county bureaus, staff, families and accounts."""

import random
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.db import transaction

from fangkong.accounts import services as account_services
from fangkong.accounts.models import User
from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock, crypto, idcard
from fangkong.lib.masking import mask_id_number
from fangkong.org import services
from fangkong.org.models import (
    FamilyMember,
    Gender,
    OrgUnit,
    Person,
    PoliticalStatus,
    Rank,
    Relation,
    ReportingLine,
    Role,
    UnitLevel,
)
from fangkong.org.reference import ensure_reference_data

SEED = 20200123
PASSWORD = "Fangkong@2020"  # noqa: S105 (the published demo password)
ROOT_CODE = "HB"
# Ages, years of service and the commands' start all count from this day, never from today, so
# the same seed gives the same data whenever it is loaded.
REFERENCE_DAY = date(2020, 1, 23)
COMMANDS_OPENED = date(2020, 1, 23)
COMMAND_CITIES = ("HG", "XG", "JZ")


class County(NamedTuple):
    code: str
    name: str
    region: str  # GB/T 2260 code, also the first six digits of locals' ID numbers


class City(NamedTuple):
    code: str
    name: str
    counties: tuple[County, ...]
    region: str = ""  # only for cities without counties


def _c(*rows: tuple[str, str, str]) -> tuple[County, ...]:
    return tuple(County(*row) for row in rows)


CITIES: tuple[City, ...] = (
    City(
        "WH",
        "武汉市",
        _c(
            ("JA", "江岸区", "420102"),
            ("JH", "江汉区", "420103"),
            ("QK", "硚口区", "420104"),
            ("HY", "汉阳区", "420105"),
            ("WC", "武昌区", "420106"),
            ("QS", "青山区", "420107"),
            ("HS", "洪山区", "420111"),
            ("DXH", "东西湖区", "420112"),
            ("HN", "汉南区", "420113"),
            ("CD", "蔡甸区", "420114"),
            ("JX", "江夏区", "420115"),
            ("HP", "黄陂区", "420116"),
            ("XZ", "新洲区", "420117"),
        ),
    ),  # fmt: skip
    City(
        "HS",
        "黄石市",
        _c(
            ("HSG", "黄石港区", "420202"),
            ("XSS", "西塞山区", "420203"),
            ("XL", "下陆区", "420204"),
            ("TS", "铁山区", "420205"),
            ("YX", "阳新县", "420222"),
            ("DY", "大冶市", "420281"),
        ),
    ),  # fmt: skip
    City(
        "SY",
        "十堰市",
        _c(
            ("MJ", "茅箭区", "420302"),
            ("ZW", "张湾区", "420303"),
            ("YY", "郧阳区", "420304"),
            ("YXI", "郧西县", "420322"),
            ("ZS", "竹山县", "420323"),
            ("ZX", "竹溪县", "420324"),
            ("FX", "房县", "420325"),
            ("DJK", "丹江口市", "420381"),
        ),
    ),  # fmt: skip
    City(
        "YC",
        "宜昌市",
        _c(
            ("XL", "西陵区", "420502"),
            ("WJG", "伍家岗区", "420503"),
            ("DJ", "点军区", "420504"),
            ("XT", "猇亭区", "420505"),
            ("YL", "夷陵区", "420506"),
            ("YA", "远安县", "420525"),
            ("XS", "兴山县", "420526"),
            ("ZG", "秭归县", "420527"),
            ("CY", "长阳土家族自治县", "420528"),
            ("WF", "五峰土家族自治县", "420529"),
            ("YD", "宜都市", "420581"),
            ("DY", "当阳市", "420582"),
            ("ZJ", "枝江市", "420583"),
        ),
    ),  # fmt: skip
    City(
        "XY",
        "襄阳市",
        _c(
            ("XC", "襄城区", "420602"),
            ("FC", "樊城区", "420606"),
            ("XZ", "襄州区", "420607"),
            ("NZ", "南漳县", "420624"),
            ("GC", "谷城县", "420625"),
            ("BK", "保康县", "420626"),
            ("LHK", "老河口市", "420682"),
            ("ZY", "枣阳市", "420683"),
            ("YC", "宜城市", "420684"),
        ),
    ),  # fmt: skip
    City(
        "EZ",
        "鄂州市",
        _c(("LZH", "梁子湖区", "420702"), ("HR", "华容区", "420703"), ("EC", "鄂城区", "420704")),
    ),  # fmt: skip
    City(
        "JM",
        "荆门市",
        _c(
            ("DB", "东宝区", "420802"),
            ("DD", "掇刀区", "420804"),
            ("SY", "沙洋县", "420822"),
            ("ZX", "钟祥市", "420881"),
            ("JS", "京山市", "420882"),
        ),
    ),  # fmt: skip
    City(
        "XG",
        "孝感市",
        _c(
            ("XN", "孝南区", "420902"),
            ("XC", "孝昌县", "420921"),
            ("DW", "大悟县", "420922"),
            ("YM", "云梦县", "420923"),
            ("YC", "应城市", "420981"),
            ("AL", "安陆市", "420982"),
            ("HC", "汉川市", "420984"),
        ),
    ),  # fmt: skip
    City(
        "JZ",
        "荆州市",
        _c(
            ("SS", "沙市区", "421002"),
            ("JZ", "荆州区", "421003"),
            ("GA", "公安县", "421022"),
            ("JL", "江陵县", "421024"),
            ("SHS", "石首市", "421081"),
            ("HH", "洪湖市", "421083"),
            ("SZ", "松滋市", "421087"),
            ("JLS", "监利市", "421088"),
        ),
    ),  # fmt: skip
    City(
        "HG",
        "黄冈市",
        _c(
            ("HZ", "黄州区", "421102"),
            ("TF", "团风县", "421121"),
            ("HA", "红安县", "421122"),
            ("LT", "罗田县", "421123"),
            ("YS", "英山县", "421124"),
            ("XS", "浠水县", "421125"),
            ("QC", "蕲春县", "421126"),
            ("HM", "黄梅县", "421127"),
            ("MC", "麻城市", "421181"),
            ("WX", "武穴市", "421182"),
        ),
    ),  # fmt: skip
    City(
        "XN",
        "咸宁市",
        _c(
            ("XA", "咸安区", "421202"),
            ("JY", "嘉鱼县", "421221"),
            ("TC", "通城县", "421222"),
            ("CY", "崇阳县", "421223"),
            ("TS", "通山县", "421224"),
            ("CB", "赤壁市", "421281"),
        ),
    ),  # fmt: skip
    City(
        "SZ",
        "随州市",
        _c(("ZD", "曾都区", "421303"), ("SX", "随县", "421321"), ("GS", "广水市", "421381")),
    ),  # fmt: skip
    City(
        "ES",
        "恩施土家族苗族自治州",
        _c(
            ("ESS", "恩施市", "422801"),
            ("LC", "利川市", "422802"),
            ("JS", "建始县", "422822"),
            ("BD", "巴东县", "422823"),
            ("XE", "宣恩县", "422825"),
            ("XF", "咸丰县", "422826"),
            ("LF", "来凤县", "422827"),
            ("HF", "鹤峰县", "422828"),
        ),
    ),  # fmt: skip
    # Directly administered by the province: no county-level children.
    City("XT", "仙桃市", (), "429004"),
    City("QJ", "潜江市", (), "429005"),
    City("TM", "天门市", (), "429006"),
    City("SNJ", "神农架林区", (), "429021"),
)

PROVINCE_DIVISIONS = (
    ("BGS", "办公室"),
    ("RSC", "人事处"),
    ("FGC", "法规处"),
    ("CZC", "财政审计处"),
    ("JZC", "经济责任审计处"),
    ("SBC", "社会保障审计处"),
    ("NYC", "农业农村审计处"),
    ("GTC", "固定资产投资审计处"),
    ("JRC", "金融审计处"),
    ("QYC", "企业审计处"),
    ("DZC", "电子数据审计处"),
    ("GLC", "审计管理处"),
)
CITY_DIVISIONS = (("BGS", "办公室"), ("CZK", "财政审计科"), ("JZK", "经济责任审计科"))
CITY_DIVISIONS_EXTRA = (
    ("SBK", "社会保障审计科"),
    ("GTK", "固定资产投资审计科"),
    ("QYK", "企业审计科"),
    ("NYK", "农业农村审计科"),
    ("DZK", "电子数据审计科"),
)
COUNTY_DIVISIONS = (("ZH", "综合科"), ("CZ", "财政审计科"))
COUNTY_DIVISIONS_EXTRA = (("JZ", "经济责任审计科"), ("TZ", "投资审计科"))


class Titles(NamedTuple):
    """Posts and ranks of one kind of unit: its head, deputies and ordinary staff (weighted)."""

    head: tuple[str, str]
    deputies: tuple[tuple[str, str], ...]
    staff: tuple[tuple[str, str, int], ...]


# Bureau-level leaders sit in the bureau itself; everyone else works in a division.
BUREAU_TITLES = {
    "province": Titles(
        ("厅长", "ting"),
        (("副厅长", "fu_ting"),) * 3 + (("总审计师", "fu_ting"),),
        (("秘书", "fu_ke", 1),),
    ),
    "city": Titles(
        ("局长", "zheng_chu"),
        (("副局长", "fu_chu"),) * 2 + (("总审计师", "fu_chu"),),
        (("秘书", "keyuan", 1),),
    ),
    "county": Titles(("局长", "zheng_ke"), (("副局长", "fu_ke"),), (("科员", "keyuan", 1),)),
    "command": Titles(
        ("指挥长", "fu_ting"),
        (("副指挥长", "zheng_chu"),) * 2,
        (("工作人员", "keyuan", 1),),
    ),
}
DIVISION_TITLES = {
    "province": Titles(
        ("处长", "zheng_chu"),
        (("副处长", "fu_chu"),),
        (("一级主任科员", "zheng_ke", 3), ("四级主任科员", "fu_ke", 4), ("一级科员", "keyuan", 3)),
    ),
    "city": Titles(
        ("科长", "zheng_ke"),
        (("副科长", "fu_ke"),),
        (("四级主任科员", "fu_ke", 3), ("一级科员", "keyuan", 4), ("科员", "keyuan", 3)),
    ),
    "county": Titles(("科长", "fu_ke"), (), (("四级主任科员", "fu_ke", 2), ("科员", "keyuan", 8))),
}
# Staff per unit, bureau leaders included: (low, high) drawn uniformly.
STAFF_PROVINCE_DIVISION = (9, 14)
STAFF_CITY = (55, 80)
STAFF_WUHAN = (95, 105)
STAFF_COUNTY = (22, 30)
STAFF_COMMAND = 5

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤"
)
# Roughly Zipf-like: 王, 李 and 张 are far more common than 汤.
SURNAME_WEIGHTS = tuple(1 / (i + 6) for i in range(len(SURNAMES)))
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊峰亮成东林志国建新海兵龙江洋锋阳立"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红燕萍琳雪婷慧颖佳倩琴云莉兰梅晶丹露瑶怡欣悦"
GIVEN_ANY = "文晓思子嘉安宁春雨一可心明晨小永"
# China Mobile, Unicom and Telecom number blocks.
MOBILE_PREFIXES = tuple(
    str(n) for n in (*range(130, 140), *range(150, 160), 176, 177, *range(180, 190), 199)
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    unit_code: str | None
    try_this: str


ACCOUNTS = (
    DemoAccount("admin", "系统管理员", None, "用户管理、审计日志、全部单位"),
    DemoAccount("hb_coord", "协调员", "HB", "全省单位树与人员"),
    DemoAccount("hg_coord", "协调员", "HG", "黄冈市局及其县区局，看不到孝感"),
    DemoAccount("xg_coord", "协调员", "XG", "孝感市局及其县区局，看不到黄冈"),
    DemoAccount("hz_liaison", "联络员", "HG-HZ", "本局人员、查看完整身份证号（留痕）"),
    DemoAccount("hz_leader", "第一责任人", "HG-HZ", "本局人员（只读）"),
    DemoAccount("hz_duty", "值班员", "HG-HZ", "本局单位树，看不到人员明细"),
    DemoAccount("auditor", "审计人员", None, "救灾资金物资审计演示项目组长；无单位范围"),
    DemoAccount("hz_staff", "职工", "HG-HZ-CZ", "本人信息及家庭成员"),
)


@dataclass
class _Member:
    """A generated staff member, with what the generator needs to remember about them."""

    person: Person
    duty: str  # head, deputy, liaison or staff
    born: date
    relatives: int = 0


class _Builder:
    """Generates the demo with one seeded RNG; units go through services, people in bulk."""

    def __init__(self, admin: User, levels: dict[str, UnitLevel], ranks: dict[str, Rank]):
        self.rng = random.Random(SEED)
        self.admin = admin
        self.levels = levels
        self.ranks = ranks
        self.units: dict[str, OrgUnit] = {}
        self.members: list[_Member] = []
        self.by_unit: dict[str, list[_Member]] = {}
        self.id_numbers: set[str] = set()
        self.mobiles: set[str] = set()

    # Units ----------------------------------------------------------------------------------

    def unit(self, code: str, name: str, level: str, parent: str | None = None, **kw) -> OrgUnit:
        self.units[code] = services.unit_create(
            actor=self.admin,
            code=code,
            name=name,
            level=self.levels[level],
            parent=self.units[parent] if parent else None,
            sort_order=len(self.units),
            **kw,
        )
        return self.units[code]

    def build_units(self) -> None:
        rng = self.rng
        self.unit(ROOT_CODE, "湖北省审计厅", "province", short_name="省审计厅")
        for code, name in PROVINCE_DIVISIONS:
            self.unit(f"{ROOT_CODE}-{code}", name, "division", ROOT_CODE)
        for city in CITIES:
            self.unit(city.code, f"{city.name}审计局", "city", ROOT_CODE)
            extra = CITY_DIVISIONS_EXTRA
            if city.code != "WH":
                chosen = rng.sample(extra, rng.randint(1, 2))
                extra = tuple(d for d in extra if d in chosen)
            for code, name in CITY_DIVISIONS + extra:
                # Wuhan is a sub-provincial city: its bureau has 处, not 科.
                label = name.replace("科", "处") if city.code == "WH" else name
                self.unit(f"{city.code}-{code}", label, "division", city.code)
            for county in city.counties:
                county_code = f"{city.code}-{county.code}"
                self.unit(county_code, f"{county.name}审计局", "county", city.code)
                extra = (rng.choice(COUNTY_DIVISIONS_EXTRA),) if rng.random() < 0.4 else ()
                for code, name in COUNTY_DIVISIONS + extra:
                    self.unit(f"{county_code}-{code}", name, "division", county_code)
        for city in CITIES:
            if city.code in COMMAND_CITIES:
                self.command(city)

    def command(self, city: City) -> None:
        """A city's epidemic command, a root of its own, to which its county bureaus also report."""
        command = self.unit(
            f"{city.code}-ZHB",
            f"{city.name}新型冠状病毒感染的肺炎疫情防控指挥部",
            "command",
            short_name=f"{city.name}疫情防控指挥部",
            opened_on=COMMANDS_OPENED,
        )
        for county in city.counties:
            services.reporting_line_add(
                actor=self.admin,
                unit=self.units[f"{city.code}-{county.code}"],
                superior=command,
                name="防疫指挥部",
                active_from=COMMANDS_OPENED,
            )

    # People ---------------------------------------------------------------------------------

    def name(self, gender: str, surname: str | None = None) -> str:
        rng = self.rng
        surname = surname or rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        chars = GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE
        if rng.random() < 0.3:
            return surname + rng.choice(chars)
        first = rng.choice(GIVEN_ANY + chars)
        return surname + first + rng.choice(chars.replace(first, ""))

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def birthday(self, low_age: int, high_age: int) -> date:
        year = REFERENCE_DAY.year - self.rng.randint(low_age, high_age)
        return date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))

    def id_number(self, regions: tuple[str, ...], born: date, gender: str) -> str:
        while True:
            # The sequence's last digit is odd for men and even for women (GB 11643).
            sequence = self.rng.randrange(500) * 2 + (1 if gender == Gender.MALE else 0)
            value = idcard.make(self.rng.choice(regions), born, sequence)
            if value not in self.id_numbers:
                self.id_numbers.add(value)
                return value

    def political_status(self, duty: str, age: int) -> str:
        r = self.rng.random()
        if duty in {"head", "deputy"}:
            # Some deputy heads of government bureaus come from the democratic parties.
            if duty == "deputy" and r < 0.08:
                return PoliticalStatus.OTHER_PARTY
            return PoliticalStatus.CPC_MEMBER
        if age < 28:
            if r < 0.25:
                return PoliticalStatus.CPC_MEMBER
            if r < 0.32:
                return PoliticalStatus.CPC_PROBATIONARY
            return PoliticalStatus.LEAGUE if r < 0.7 else PoliticalStatus.MASSES
        if r < 0.55:
            return PoliticalStatus.CPC_MEMBER
        return PoliticalStatus.OTHER_PARTY if r < 0.58 else PoliticalStatus.MASSES

    def member(
        self, unit: OrgUnit, duty: str, post: str, rank: str, regions: tuple[str, ...]
    ) -> None:
        rng = self.rng
        ages = {"head": (45, 58), "deputy": (38, 56), "liaison": (24, 40)}.get(duty, (23, 55))
        born = self.birthday(*ages)
        male_share = 0.75 if duty in {"head", "deputy"} else 0.5
        gender = Gender.MALE if rng.random() < male_share else Gender.FEMALE
        started = date(born.year + rng.randint(22, 26), rng.choice((7, 8, 9)), 1)
        person = Person(
            unit=unit,
            name=self.name(gender),
            gender=gender,
            post=post,
            rank=self.ranks[rank],
            mobile=self.mobile(),
            political_status=self.political_status(duty, REFERENCE_DAY.year - born.year),
            active_from=min(started, REFERENCE_DAY),
        )
        _set_id_number(person, self.id_number(regions, born, gender))
        m = _Member(person, duty, born)
        self.members.append(m)
        self.by_unit.setdefault(unit.code, []).append(m)

    def staff(
        self, unit: OrgUnit, titles: Titles, size: int, regions: tuple[str, ...], bureau: bool
    ) -> None:
        """Fill one unit: head, deputies, then staff, the first of whom becomes its liaison."""
        self.member(unit, "head", *titles.head, regions)
        deputies = titles.deputies
        if not bureau:  # small divisions have no deputy head, large ones two
            deputies = (deputies * 2)[: 0 if size < 5 else 1 if size < 10 else 2]
        for post, rank in deputies:
            self.member(unit, "deputy", post, rank, regions)
        posts = [(post, rank) for post, rank, _ in titles.staff]
        weights = [weight for _, _, weight in titles.staff]
        for i in range(size - 1 - len(deputies)):
            post, rank = self.rng.choices(posts, weights)[0]
            self.member(unit, "liaison" if i == 0 else "staff", post, rank, regions)

    def bureau(
        self, code: str, level: str, leaders: int, total: int, regions: tuple[str, ...]
    ) -> None:
        """Staff a bureau: its leaders in the bureau itself, the rest shared among its divisions."""
        bureau = self.units[code]
        self.staff(bureau, BUREAU_TITLES[level], leaders, regions, bureau=True)
        divisions = [
            u
            for u in self.units.values()
            if u.parent_id == bureau.pk and u.level.code == "division"
        ]
        sizes = [3] * len(divisions)
        for _ in range(max(0, total - leaders - 3 * len(divisions))):
            sizes[self.rng.randrange(len(divisions))] += 1
        for division, size in zip(divisions, sizes, strict=True):
            self.staff(division, DIVISION_TITLES[level], size, regions, bureau=False)

    def build_people(self) -> None:
        rng = self.rng
        hubei = tuple(c.region for city in CITIES for c in city.counties)
        hubei += tuple(city.region for city in CITIES if city.region)
        # Most provincial staff were born in Wuhan; the rest come from all over the province.
        province_regions = tuple(c.region for c in CITIES[0].counties) * 4 + hubei
        province_total = 6 + sum(rng.randint(*STAFF_PROVINCE_DIVISION) for _ in PROVINCE_DIVISIONS)
        self.bureau(ROOT_CODE, "province", 6, province_total, province_regions)
        for city in CITIES:
            regions = tuple(c.region for c in city.counties) or (city.region,)
            total = rng.randint(*(STAFF_WUHAN if city.code == "WH" else STAFF_CITY))
            self.bureau(city.code, "city", 5, total, regions)
            for county in city.counties:
                total = rng.randint(*STAFF_COUNTY)
                self.bureau(f"{city.code}-{county.code}", "county", 3, total, (county.region,))
            if city.code in COMMAND_CITIES:
                command = self.units[f"{city.code}-ZHB"]
                self.staff(command, BUREAU_TITLES["command"], STAFF_COMMAND, regions, True)
        Person.objects.bulk_create([m.person for m in self.members], batch_size=500)

    # Families -------------------------------------------------------------------------------

    def family_of(self, m: _Member) -> list[FamilyMember]:
        """Spouse, children, parents and the odd co-resident; some live elsewhere; four at most."""
        rng = self.rng
        p = m.person
        age = REFERENCE_DAY.year - m.born.year
        other = Gender.FEMALE if p.gender == Gender.MALE else Gender.MALE
        family: list[FamilyMember] = []

        def add(name: str, relation: str, lives_with: bool, year: int, phone: bool = True):
            mobile = self.mobile() if phone and rng.random() < 0.85 else ""
            family.append(
                FamilyMember(
                    person=p,
                    name=name,
                    relation=relation,
                    lives_with=lives_with,
                    birth_year=year,
                    mobile=mobile,
                )
            )

        spouse = None
        if age >= 25 and rng.random() < 0.85:
            spouse = self.name(other)
            add(spouse, Relation.SPOUSE, rng.random() < 0.95, m.born.year + rng.randint(-3, 3))
            for _ in range(rng.choices((0, 1, 2), (15, 65, 20))[0] if age >= 27 else 0):
                child_age = rng.randint(0, age - 24)
                # Children mostly take the father's surname.
                surname = p.name[0] if p.gender == Gender.MALE else spouse[0]
                name = self.name(rng.choice((Gender.MALE, Gender.FEMALE)), surname)
                lives_with = child_age < 19 or rng.random() < 0.4
                add(
                    name,
                    Relation.CHILD,
                    lives_with,
                    REFERENCE_DAY.year - child_age,
                    child_age >= 16,
                )
        if age < 55:
            year = m.born.year - rng.randint(24, 32)
            if rng.random() < 0.55:
                add(self.name(Gender.MALE, p.name[0]), Relation.FATHER, rng.random() < 0.3, year)
            if rng.random() < 0.65:
                add(self.name(Gender.FEMALE), Relation.MOTHER, rng.random() < 0.35, year + 2)
        if spouse and rng.random() < 0.08:
            name = self.name(rng.choice((Gender.MALE, Gender.FEMALE)), spouse[0])
            add(name, Relation.PARENT_IN_LAW, True, m.born.year - rng.randint(24, 32))
        if rng.random() < 0.02:
            add(
                self.name(Gender.FEMALE),
                Relation.CO_RESIDENT,
                True,
                REFERENCE_DAY.year - rng.randint(40, 60),
            )
        m.relatives = min(len(family), 4)
        return family[:4]

    def build_families(self) -> None:
        family = [f for m in self.members for f in self.family_of(m)]
        FamilyMember.objects.bulk_create(family, batch_size=1000)

    # Responsibles and accounts --------------------------------------------------------------

    def pick(self, unit_code: str, *duties: str) -> _Member:
        """The first member of the unit holding the first of `duties` that anyone holds."""
        staff = self.by_unit[unit_code]
        return next(m for duty in duties for m in staff if m.duty == duty)

    def set_responsibles(self) -> None:
        """Every unit: its head as first responsible person, one clerk as liaison."""
        for code, unit in self.units.items():
            services.unit_set_responsibles(
                actor=self.admin,
                unit=unit,
                first_responsible=self.pick(code, "head").person,
                liaisons=[self.pick(code, "liaison", "staff", "deputy").person],
            )

    def build_accounts(self) -> None:
        """The demo logins; people's accounts are linked to generated staff of the right units."""
        hz = "HG-HZ"
        clerks = [m for m in self.by_unit[f"{hz}-CZ"] if m.duty == "staff"]
        people = {
            "hb_coord": self.pick(f"{ROOT_CODE}-BGS", "deputy", "staff"),
            "hg_coord": self.pick("HG-BGS", "deputy", "staff"),
            "xg_coord": self.pick("XG-BGS", "deputy", "staff"),
            "hz_liaison": self.pick(hz, "liaison"),
            "hz_leader": self.pick(hz, "head"),
            "hz_duty": self.pick(f"{hz}-ZH", "staff"),
            # The clerk with the most relatives, so the family page has something to show.
            "hz_staff": max(clerks, key=lambda m: m.relatives),
        }
        roles = {
            "admin": (Role.ADMIN, None),
            "hb_coord": (Role.COORDINATOR, ROOT_CODE),
            "hg_coord": (Role.COORDINATOR, "HG"),
            "xg_coord": (Role.COORDINATOR, "XG"),
            "hz_duty": (Role.DUTY_OFFICER, hz),
            "auditor": (Role.AUDITOR, None),
        }
        for account in ACCOUNTS:
            if account.username == self.admin.username:
                user = self.admin
            else:
                user = account_services.user_create(
                    actor=self.admin, username=account.username, password=PASSWORD
                )
            if account.username in roles:
                role, unit_code = roles[account.username]
                unit = self.units[unit_code] if unit_code else None
                services.role_assign(actor=self.admin, user=user, role=role, unit=unit)
            if account.username in people:
                person = people[account.username].person
                person.user, person.updated_at = user, clock.now()
                person.save(update_fields=["user", "updated_at"])


def _set_id_number(person: Person, value: str) -> None:
    """Fill the encrypted, hashed and masked ID fields as services.person_create stores them."""
    person.id_number_encrypted = crypto.encrypt(value)
    person.id_number_hash = crypto.keyed_hash(value)
    person.id_number_masked = mask_id_number(value)


def is_loaded() -> bool:
    return OrgUnit.objects.filter(code=ROOT_CODE).exists()


def counts() -> dict[str, int]:
    return {
        "units": OrgUnit.objects.count(),
        "people": Person.objects.count(),
        "family": FamilyMember.objects.count(),
        "reporting_lines": ReportingLine.objects.count(),
        "accounts": User.objects.filter(username__in=[a.username for a in ACCOUNTS]).count(),
    }


@transaction.atomic
def load() -> dict[str, int]:
    """Build the whole demo in one transaction; the caller checks is_loaded() first."""
    taken = list(
        User.objects.filter(username__in=[a.username for a in ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise ValueError(f"demo accounts already exist: {', '.join(sorted(taken))}")
    levels, ranks = ensure_reference_data()
    admin = account_services.user_create(actor=None, username="admin", password=PASSWORD)
    builder = _Builder(admin, levels, ranks)
    builder.build_units()
    builder.build_people()
    builder.build_families()
    builder.set_responsibles()
    builder.build_accounts()
    staff_accounts(admin)
    result = counts()
    audit_record(actor=admin, action=AuditAction.DEMO_LOAD, new=result | {"seed": SEED})
    return result


def staff_accounts(admin: User | None = None) -> int:
    """Give every demo staff member an account through the real bulk path (username: their mobile
    number), then the published demo password, so anyone can sign in as anyone. Returns how many
    accounts were made; a second call makes none.

    One password hash is computed and shared by all of them: hashing 4,000 passwords one by one
    would take minutes, and these passwords are public anyway.
    """
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
    from django.db.models import Exists, OuterRef

    from fangkong.accounts import provisioning
    from fangkong.accounts.models import AccessCode

    admin = admin or User.objects.get(username="admin")
    created = 0
    demo_roots = OrgUnit.objects.filter(parent__isnull=True, code__in=_demo_roots())
    for root in demo_roots.order_by("path"):
        if not Person.objects.filter(unit__path__startswith=root.path, user__isnull=True).exists():
            continue
        batch = provisioning.account_batch_create(actor=admin, unit=root, delivery="slip")
        batch = provisioning.account_batch_run(batch_id=batch.pk)
        created += batch.counts.get("created", 0)
    # Accounts waiting for a printed slip (none was printed yet) get the demo password instead.
    waiting = User.objects.filter(
        person__isnull=False, password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).exclude(Exists(AccessCode.objects.filter(user=OuterRef("pk"))))
    if created:
        changed = waiting.update(password=make_password(PASSWORD))
        audit_record(actor=admin, action=AuditAction.DEMO_STAFF_ACCOUNTS, new={"accounts": changed})
    return created


def _demo_roots() -> list[str]:
    """The demo's root units: the department and the cities' epidemic commands."""
    return [ROOT_CODE] + [f"{code}-ZHB" for code in COMMAND_CITIES]


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def accounts_table() -> str:
    """The demo accounts with their role, unit, person and a hint, printed by `load_demo`."""
    codes = [a.unit_code for a in ACCOUNTS if a.unit_code]
    units = {
        # A division's name alone (财政审计科) is ambiguous: prefix its bureau.
        u.code: f"{u.parent.name} {u.name}" if u.level.code == "division" else u.name
        for u in OrgUnit.objects.filter(code__in=codes).select_related("parent", "level")
    }
    people = dict(
        Person.objects.filter(user__username__in=[a.username for a in ACCOUNTS]).values_list(
            "user__username", "name"
        )
    )
    rows = [("账号", "角色", "单位", "姓名", "可以试试")] + [
        (a.username, a.role, units.get(a.unit_code, "—"), people.get(a.username, "—"), a.try_this)
        for a in ACCOUNTS
    ]
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths, strict=True)
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"\n所有演示账号的密码 (password of every demo account): {PASSWORD}")
    staff = Person.objects.filter(user__isnull=False).exclude(
        user__username__in=[a.username for a in ACCOUNTS]
    )
    if staff.exists():
        lines.append(
            f"其余 {staff.count()} 名演示职工也都有账号：用户名是本人手机号码，密码同上。"
            "列出某单位人员的用户名和角色：.venv/bin/python manage.py demo_accounts HG-HZ\n"
            f"Every other demo staff member ({staff.count()}) has an account too: the username "
            "is their mobile number, the password the same. List a unit's usernames and roles: "
            "manage.py demo_accounts <unit code>"
        )
    return "\n".join(line.rstrip() for line in lines)
