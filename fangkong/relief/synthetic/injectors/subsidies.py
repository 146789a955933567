"""Injectors and decoys: frontline-staff subsidies (rate, days, ghosts, after leaving, bad
identity numbers, two payers) and a nurse who really moved between hospitals."""

from collections import defaultdict
from datetime import date, timedelta

from fangkong.lib import idcard
from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    copy_record,
    decoy,
    injector,
    pick,
)
from fangkong.relief.synthetic.injectors.procurement import touch
from fangkong.relief.synthetic.world import DAILY_RATE, REGIONS, START


def month_of(subsidy) -> tuple[int, int]:
    """The month a subsidy pays for, from its batch number BZ<yymm><hospital>."""
    ref = subsidy["_ref"]
    return 2000 + int(ref[2:4]), int(ref[4:6])


def _touched_ids(world) -> set[str]:
    return {
        r["id_number"]
        for kind in ("subsidy", "roster", "staff")
        for r in world.records[kind]
        if r.get("_planted")
    }


def _subsidies(world):
    """Subsidies of people no injector has touched yet."""
    taken = _touched_ids(world)
    return [s for s in world.records["subsidy"] if s["id_number"] not in taken]


def _roster_days(world) -> dict[str, list[date]]:
    days = defaultdict(list)
    for r in world.records["roster"]:
        days[r["id_number"]].append(r["day"])
    return days


@injector("SUB-RATE")
def wrong_rate_or_sum(world, rng):
    """A 二类 worker paid at the 一类 rate, and a sum that is not days × rate."""
    out = []
    second = [s for s in _subsidies(world) if s["tier"] == "二类"]
    for s in pick(rng, second, 1):
        s["rate"] = DAILY_RATE["一类"]
        s["amount"] = s["days"] * s["rate"]
        touch(s)
        out.append(
            Planted(
                "SUB-RATE",
                [s],
                f"{s['person']}二类按一类标准发放",
                amount_fen=s["days"] * (DAILY_RATE["一类"] - DAILY_RATE["二类"]),
            )
        )
    for s in pick(rng, _subsidies(world), 1):
        extra = rng.randint(1, 5) * 10_000
        s["amount"] += extra
        touch(s)
        out.append(
            Planted(
                "SUB-RATE", [s], f"{s['person']}金额多算 {extra / 100:.0f} 元", amount_fen=extra
            )
        )
    return out


@injector("SUB-DAYS")
def more_days_than_on_duty(world, rng):
    out = []
    for s in pick(rng, _subsidies(world), 2):
        extra = rng.randint(2, 6)
        s["days"] += extra
        s["amount"] = s["days"] * s["rate"]
        touch(s)
        out.append(
            Planted(
                "SUB-DAYS",
                [s],
                f"{s['person']}多报 {extra} 天",
                amount_fen=extra * s["rate"],
                quantity=extra,
            )
        )
    return out


@injector("SUB-NOT-ON-ROSTER")
def ghost_worker(world, rng):
    """A subsidy for someone on no hospital's roster (a valid but made-up identity)."""
    taken = {s["id_number"] for s in world.records["subsidy"]}
    out = []
    for s in pick(rng, _subsidies(world), 2):
        while True:
            born = START - timedelta(days=rng.randint(22 * 365, 58 * 365))
            number = idcard.make(rng.choice(REGIONS), born, rng.randint(0, 999))
            if number not in taken:
                taken.add(number)
                break
        name = (
            rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜敏静丽强磊") + rng.choice("军洋勇")
        )
        ghost = copy_record(world, "subsidy", s, person=name, id_number=number)
        touch(ghost)
        out.append(
            Planted("SUB-NOT-ON-ROSTER", [ghost], f"{name}不在排班表", amount_fen=ghost["amount"])
        )
    return out


@injector("SUB-AFTER-SEPARATION")
def paid_after_leaving(world, rng):
    """The register says the worker left; the roster and the subsidy carried on."""
    roster = _roster_days(world)
    taken = _touched_ids(world)
    rows = []
    for staff in world.records["staff"]:
        if staff["body"] != "HC" or staff["id_number"] in taken or staff.get("_planted"):
            continue
        days = sorted(roster.get(staff["id_number"], []))
        if len(days) >= 8:
            rows.append((staff, days))
    out = []
    for staff, days in pick(rng, rows, 2):
        left = days[rng.randint(len(days) // 3, len(days) - 4)]
        staff["left_on"] = left
        after = [d for d in days if d > left]
        months = {(d.year, d.month) for d in after}
        pays = [
            s
            for s in world.records["subsidy"]
            if s["id_number"] == staff["id_number"] and month_of(s) in months
        ]
        rate = pays[0]["rate"] if pays else 0
        touch(staff, *pays)
        out.append(
            Planted(
                "SUB-AFTER-SEPARATION",
                [staff, *pays],
                f"{staff['person']}{left:%m-%d}离岗后仍发 {len(after)} 天",
                amount_fen=len(after) * rate,
                quantity=len(after),
            )
        )
    return out


@injector("SUB-ID-INVALID")
def invalid_identity_number(world, rng):
    """A worker whose identity number fails the GB 11643 check digit, in every ledger."""
    people = sorted({s["id_number"] for s in _subsidies(world)})
    out = []
    for number in pick(rng, people, 2):
        bad = number[:17] + rng.choice([c for c in "0123456789X" if c != number[17]])
        rows = []
        for kind in ("subsidy", "roster", "staff"):
            for r in world.records[kind]:
                if r["id_number"] == number:
                    r["id_number"] = bad
                    touch(r)
                    if kind == "subsidy":
                        rows.append(r)
        out.append(
            Planted(
                "SUB-ID-INVALID",
                rows,
                f"{rows[0]['person']}身份证号校验码错误",
                amount_fen=sum(r["amount"] for r in rows),
            )
        )
    return out


def _batch_day(world, hospital_name: str, month: tuple[int, int]):
    """The day a hospital paid its subsidies for a month (None if it paid none)."""
    for s in world.records["subsidy"]:
        if s["source"] == hospital_name and month_of(s) == month:
            return s["day"]
    return None


def _hospitals(world):
    return [p for p in world.parties.values() if p.kind == "hospital"]


@injector("SUB-TWO-PAYERS")
def paid_by_a_second_hospital(world, rng):
    """Another hospital pays the same person for the same month and days again."""
    out = []
    for s in pick(rng, _subsidies(world), 2):
        other = rng.choice([h for h in _hospitals(world) if h.name != s["source"]])
        month = month_of(s)
        day = _batch_day(world, other.name, month) or s["day"]
        again = copy_record(
            world,
            "subsidy",
            s,
            source=other.name,
            day=day,
            _ref=f"BZ{month[0] % 100:02d}{month[1]:02d}{other.code}",
        )
        touch(s, again)
        out.append(
            Planted(
                "SUB-TWO-PAYERS",
                [again],
                f"{s['person']}由{other.name}重复发放",
                amount_fen=s["amount"],
                quantity=s["days"],
            )
        )
    return out


@decoy
def nurse_moved_between_hospitals(world, rng):
    """A worker moved to another hospital mid-month: each hospital rosters and pays its own days.

    The appropriations follow the money, so the funds stay balanced.
    """
    roster = defaultdict(list)
    for r in world.records["roster"]:
        roster[r["id_number"]].append(r)
    out = []
    people = sorted({s["id_number"] for s in _subsidies(world)})
    for number in pick(rng, people, len(people)):
        if len(out) == 2:
            break
        rows = sorted(roster[number], key=lambda r: r["day"])
        # Move on a roster day that has duty days of the same month before it.
        cuts = [
            r["day"]
            for n, r in enumerate(rows)
            if n and rows[n - 1]["day"].month == r["day"].month and r["day"].day > 1
        ]
        if len(cuts) < 3:
            continue
        cut = cuts[len(cuts) // 2]
        pays = [s for s in world.records["subsidy"] if s["id_number"] == number]
        home = world.party_named(pays[0]["source"])
        to = rng.choice([h for h in _hospitals(world) if h.code != home.code])
        for r in rows:
            if r["day"] >= cut:
                r["body"] = to.code
                touch(r)
        moved = []
        for s in pays:
            month = month_of(s)
            there = sum(
                1 for r in rows if r["day"] >= cut and (r["day"].year, r["day"].month) == month
            )
            if not there:
                continue
            day = _batch_day(world, to.name, month)
            if day is None:
                continue
            moved_fen = there * s["rate"]
            s["days"] -= there
            s["amount"] -= moved_fen
            ref = f"BZ{month[0] % 100:02d}{month[1]:02d}{to.code}"
            new = copy_record(
                world,
                "subsidy",
                s,
                source=to.name,
                day=day,
                days=there,
                amount=moved_fen,
                _ref=ref,
            )
            for a in world.records["appropriation"]:
                if a["ref"] == s["_ref"]:
                    a["amount"] -= moved_fen
                elif a["ref"] == ref:
                    a["amount"] += moved_fen
            if s["days"] == 0:
                world.records["subsidy"].remove(s)
            else:
                moved.append(s)
            moved.append(new)
            touch(s, new)
        if moved:
            out.append(
                Decoy(
                    ("SUB-TWO-PAYERS", "SUB-DAYS", "SUB-NOT-ON-ROSTER"),
                    moved,
                    f"{pays[0]['person']}{cut:%m-%d}起调往{to.name}，两院各发本院值班天数",
                )
            )
    return out
