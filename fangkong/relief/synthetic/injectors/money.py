"""Injectors and decoys: money in (idle funds, bank against registers, number series, payout speed).

Changes keep the rest of the world true where the anomaly would not touch it: a removed or added
bank row restates the statement's serial numbers and running balance; a removed payment closes
its voucher number, so only the planted problem shows.
"""

import re
from datetime import timedelta

from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    decoy,
    injector,
    pick,
    remove_record,
)
from fangkong.relief.synthetic.world import START

_NUMBER = re.compile(r"^(.*?)(\d+)$")
CHARITIES = ("RC", "CF")


# --- helpers that keep ledgers consistent ---


def touch(*records) -> None:
    """Mark records an injector changed, so later injectors and decoys leave them alone."""
    for r in records:
        r["_planted"] = True


def free(rows):
    return [r for r in rows if not r.get("_planted")]


def claim(world, *records) -> None:
    """Touch records and the contracts the payments among them pay (named in their purpose), so
    procurement injectors that rework a contract's payments leave these alone."""
    touch(*records)
    purposes = [r.get("purpose") or "" for r in records]
    for c in world.records["contract"]:
        if c.get("doc_no") and any(c["doc_no"] in p for p in purposes):
            touch(c)


def restate_bank(world, body: str) -> None:
    """Sort one account's statement by date; write its serial numbers and running balance again."""
    rows = world.records["bank"]
    mine = sorted((r for r in rows if r["body"] == body), key=lambda r: r["day"])  # stable
    rows[:] = [r for r in rows if r["body"] != body] + mine
    balance = 0
    for n, r in enumerate(mine, 1):
        balance += (r.get("amount_in") or 0) - (r.get("amount_out") or 0)
        r["balance"] = balance
        r["doc_no"] = f"{r['day']:%Y%m%d}{n:08d}"


def series(world, kind: str, body: str) -> tuple[str, int, dict[int, dict]]:
    """The main number series of one ledger: (prefix, digits, number → record)."""
    found: dict[str, dict[int, dict]] = {}
    width = {}
    for r in world.ledger(kind, body):
        m = _NUMBER.match(r.get("doc_no") or "")
        if m:
            found.setdefault(m.group(1), {})[int(m.group(2))] = r
            width[m.group(1)] = len(m.group(2))
    if not found:
        return "", 0, {}
    prefix = max(found, key=lambda p: len(found[p]))
    return prefix, width[prefix], found[prefix]


def shift_numbers(world, kind: str, body: str, start: int, by: int) -> None:
    """Add `by` to every number ≥ start of the ledger's main series (close or open a gap)."""
    prefix, width, numbered = series(world, kind, body)
    for n, r in numbered.items():
        if n >= start:
            r["doc_no"] = f"{prefix}{n + by:0{width}d}"


def close_number(world, kind: str, record: dict) -> None:
    """After removing `record`, renumber the rest so its number is not left as a gap."""
    m = _NUMBER.match(record.get("doc_no") or "")
    prefix, _width, _numbered = series(world, kind, record["body"])
    if m and m.group(1) == prefix:
        shift_numbers(world, kind, record["body"], int(m.group(2)) + 1, -1)


def renumber_by_day(world, kind: str, body: str) -> None:
    """Give a ledger's main series back to its rows in date order (after dates moved)."""
    prefix, width, numbered = series(world, kind, body)
    numbers = sorted(numbered)
    rows = sorted(numbered.values(), key=lambda r: (r["day"], int(_NUMBER.match(r["doc_no"])[2])))
    for n, r in zip(numbers, rows, strict=True):
        r["doc_no"] = f"{prefix}{n:0{width}d}"


def fifo_late(credits, debits, days: int, as_of) -> tuple[list, int]:
    """Credits not paid out within `days` when money leaves first in, first out (as PAYOUT-SLOW
    computes it), and the total of the credits old enough to judge."""
    out_by_day: dict = {}
    for day, fen in debits:
        out_by_day[day] = out_by_day.get(day, 0) + fen
    paid_days, total = [], 0
    for day in sorted(out_by_day):
        total += out_by_day[day]
        paid_days.append((day, total))
    late, upto, judged = [], 0, 0
    for day, fen, record in sorted(credits, key=lambda c: c[0]):
        upto += fen
        if day + timedelta(days=days) > as_of:
            continue
        judged += fen
        done = next((d for d, p in paid_days if p >= upto), None)
        if done is None or (done - day).days > days:
            late.append((record, fen))
    return late, judged


# --- FUND-IDLE ---


@injector("FUND-IDLE")
def donation_never_paid_out(world, rng):
    """A cash donation early in the period whose payout (and its bank debit) never happened."""
    touched = {p.get("ref") for p in world.records["payment"] if p.get("_planted")}
    early = [
        r
        for r in free(world.records["cash_donation"])
        if r["day"] + timedelta(days=25) < world.end
        and r["amount"] >= 100_000
        and r["ref"] not in touched
    ]
    out = []
    for donation in pick(rng, early, 2):
        ref = donation["ref"]
        pays = [p for p in world.records["payment"] if p.get("ref") == ref]
        if not pays:
            continue
        for p in pays:
            remove_record(world, "payment", p)
            close_number(world, "payment", p)  # a payment never made has no voucher
        for b in [b for b in world.records["bank"] if b.get("_ref") == ref and b.get("amount_out")]:
            remove_record(world, "bank", b)
            restate_bank(world, b["body"])
        touch(donation)
        out.append(
            Planted("FUND-IDLE", [donation], f"捐赠{ref}未拨付", amount_fen=donation["amount"])
        )
    return out


# --- bank against the registers ---


@injector("BANK-UNBOOKED")
def credit_never_registered(world, rng):
    """A gift arrives in a charity's donation account but is never entered in its register:
    off-book money. The statement stays consistent (serials, running balance)."""
    donors = [p for p in world.parties.values() if p.kind == "donor"]
    registered = world.records["cash_donation"]
    out = []
    for body in CHARITIES:
        for _ in range(50):
            donor = rng.choice(donors)
            day = START + timedelta(days=rng.randint(3, world.days - 4))
            amount = rng.choice([20_000, 30_000, 80_000, 120_000, 150_000, 260_000]) * 100
            amount += rng.choice([0, 0, 0, rng.randint(1, 99) * 100])
            near = any(
                r["source"] == donor.name
                and r["amount"] == amount
                and abs((r["day"] - day).days) <= 10
                for r in registered
            )
            if not near:
                break
        else:
            continue
        row = {
            "body": body,
            "day": day,
            "doc_no": "",
            "_ref": None,
            "counterparty": donor.name,
            "counter_account": donor.account,
            "amount_in": amount,
            "amount_out": None,
            "balance": 0,
            "purpose": rng.choice(["捐款", "抗疫捐款", "疫情防控捐赠", "转账"]),
            "account": world.parties[body].account,
        }
        world.records["bank"].append(row)
        restate_bank(world, body)
        touch(row)
        out.append(
            Planted(
                "BANK-UNBOOKED",
                [row],
                f"{donor.name}汇入{amount / 100:,.2f}元未登记",
                amount_fen=amount,
                also=("PAYOUT-SLOW",),
            )
        )
    return out


@injector("REG-NO-BANK")
def credit_diverted(world, rng):
    """A registered gift never reached the donation account (paid into another account): its
    bank credit is missing, the rest of the statement restated."""
    out = []
    for body in CHARITIES:
        statement = [r for r in world.records["bank"] if r["body"] == body]
        if not statement:
            continue
        last = max(r["day"] for r in statement)
        regs = free(world.ledger("cash_donation", body))
        twins = {}
        for r in regs:
            twins[(r["source"], r["amount"])] = twins.get((r["source"], r["amount"]), 0) + 1
        candidates = []
        for r in regs:
            if twins[(r["source"], r["amount"])] > 1 or r["day"] + timedelta(days=8) > last:
                continue
            credit = next(
                (b for b in statement if b.get("_ref") == r["ref"] and b.get("amount_in")), None
            )
            if credit is None:
                continue
            # The account must never go below zero without the credit.
            after = [b["balance"] for b in statement[statement.index(credit) :]]
            if min(after) >= credit["amount_in"]:
                candidates.append((r, credit))
        for r, credit in pick(rng, candidates, 1):
            remove_record(world, "bank", credit)
            restate_bank(world, body)
            touch(r)
            out.append(
                Planted(
                    "REG-NO-BANK",
                    [r],
                    f"登记捐款{r['ref']}未进入捐赠账户",
                    amount_fen=r["amount"],
                )
            )
    return out


# --- number series ---

SERIES_LEDGERS = [
    ("cash_donation", "RC"),
    ("cash_donation", "CF"),
    ("goods_donation", "RC"),
    ("goods_donation", "CF"),
    ("payment", "RC"),
    ("payment", "CF"),
    ("payment", "FIN"),
]


@injector("SERIES-GAP")
def numbers_skipped(world, rng):
    """Receipts or vouchers missing from the series: every later number moves up by 1–3."""
    out = []
    for kind, body in pick(rng, SERIES_LEDGERS, len(SERIES_LEDGERS)):
        if len(out) == 2:
            break
        _prefix, _width, numbered = series(world, kind, body)
        numbers = sorted(numbered)
        if len(numbers) < 12:
            continue
        cut = rng.choice(numbers[3:-3])
        before = max(n for n in numbers if n < cut)
        skipped = rng.randint(1, 3)
        pair = [numbered[before], numbered[cut]]
        if any(r.get("_planted") for r in pair):
            continue
        touch(*pair)
        shift_numbers(world, kind, body, cut, skipped)
        out.append(
            Planted(
                "SERIES-GAP",
                pair,
                f"{pair[0]['doc_no']}之后缺 {skipped} 个号",
                quantity=skipped,
            )
        )
    return out


@injector("SERIES-REUSE")
def number_used_twice(world, rng):
    """A receipt or voucher number written on a second, different record; later numbers close up
    so the series shows no gap."""
    out = []
    for kind, body in pick(rng, SERIES_LEDGERS, len(SERIES_LEDGERS)):
        if len(out) == 2:
            break
        _prefix, _width, numbered = series(world, kind, body)
        choices = [
            n
            for n in sorted(numbered)[2:-2]
            if n - 1 in numbered
            and n + 1 in numbered
            and not numbered[n].get("_planted")
            and (
                numbered[n]["day"] != numbered[n - 1]["day"]
                or numbered[n].get("source") != numbered[n - 1].get("source")
            )
        ]
        if not choices:
            continue
        n = rng.choice(choices)
        first, second = numbered[n - 1], numbered[n]
        second["doc_no"] = first["doc_no"]
        touch(second)
        shift_numbers(world, kind, body, n + 1, -1)
        out.append(
            Planted(
                "SERIES-REUSE",
                [second],
                f"号码{first['doc_no']}再次使用",
                amount_fen=second.get("amount"),
            )
        )
    return out


# --- payout speed ---


def _plan_pause(rows, start, stop, rng) -> dict[str, int]:
    """Days to move each ref whose first row falls in [start, stop) so it is paid about `stop`."""
    first: dict[str, object] = {}
    for r in rows:
        ref = r.get("ref") or r.get("_ref")
        if ref and (ref not in first or r["day"] < first[ref]):
            first[ref] = r["day"]
    return {
        ref: (stop + timedelta(days=rng.randint(0, 2)) - day).days
        for ref, day in first.items()
        if start <= day < stop
    }


def _moved(r, plan, end):
    ref = r.get("ref") or r.get("_ref")
    return min(r["day"] + timedelta(days=plan[ref]), end) if ref in plan else r["day"]


PAUSE = 30  # days a body stops paying out


@injector("PAYOUT-SLOW")
def payouts_held_back(world, rng):
    """One charity and one designated hospital stop paying out for 30 days, then pay everything
    at once: much of the money received before and during the pause waits far longer than 15
    days. The pause is placed where it makes a clear case (under 60% paid in time)."""
    out = []
    end = world.end
    offsets = list(range(4, 16))
    # A charity: its payments and the matching bank debits move together.
    options = [(body, o) for body in CHARITIES for o in offsets]
    rng.shuffle(options)
    for body, offset in options:
        start = START + timedelta(days=offset)
        pays = world.ledger("payment", body)
        plan = _plan_pause(pays, start, start + timedelta(days=PAUSE), rng)
        statement = world.ledger("bank", body)
        debits = [(_moved(b, plan, end), b["amount_out"]) for b in statement if b.get("amount_out")]
        late, judged = fifo_late(
            [(b["day"], b["amount_in"], b) for b in statement if b.get("amount_in")],
            debits,
            15,
            max([d for d, _ in debits] + [b["day"] for b in statement]),
        )
        fen = sum(f for _r, f in late)
        if judged and fen / judged > 0.4 and fen >= 20_000_000:
            for r in pays:
                r["day"] = _moved(r, plan, end)
            for b in statement:
                if b.get("amount_out"):
                    b["day"] = _moved(b, plan, end)
            world.records["payment"].sort(key=lambda r: r["day"])
            renumber_by_day(world, "payment", body)
            restate_bank(world, body)
            out.append(
                Planted(
                    "PAYOUT-SLOW",
                    [r for r, _f in late],
                    f"{world.parties[body].name}自{start:%m-%d}起暂停拨付 {PAUSE} 天",
                    amount_fen=fen,
                )
            )
            break
    # A hospital: its treasury payments to suppliers.
    hospitals = [p.name for p in world.parties.values() if p.kind == "hospital" and p.designated]
    options = [(name, o) for name in hospitals for o in offsets]
    rng.shuffle(options)
    for name, offset in options:
        start = START + timedelta(days=offset)
        pays = [p for p in world.ledger("payment", "FIN") if p["source"] == name]
        plan = _plan_pause(pays, start, start + timedelta(days=PAUSE), rng)
        spent = [(_moved(p, plan, end), p["amount"]) for p in pays] + [
            (r["day"], r["amount"]) for r in world.records["subsidy"] if r.get("source") == name
        ]
        grants = [(a["day"], a["amount"], a) for a in world.records["appropriation"]]
        grants = [g for g in grants if g[2]["target"] == name]
        as_of = max([d for d, _ in spent] + [g[0] for g in grants] or [end])
        late, judged = fifo_late(grants, spent, 15, as_of)
        fen = sum(f for _r, f in late)
        if judged and fen / judged > 0.4 and fen >= 20_000_000:
            for p in pays:
                p["day"] = _moved(p, plan, end)
            world.records["payment"].sort(key=lambda r: r["day"])
            renumber_by_day(world, "payment", "FIN")
            out.append(
                Planted(
                    "PAYOUT-SLOW",
                    [r for r, _f in late],
                    f"{name}自{start:%m-%d}起暂停支付供应商货款 {PAUSE} 天",
                    amount_fen=fen,
                )
            )
            break
    return out


# --- decoys ---


@decoy
def gifts_at_round_catalogue_prices(world, rng):
    """In-kind gifts valued at a round catalogue price (whole thousands of yuan): legitimate, and
    no deterministic test may fire on them; the round-number and Benford screens may."""
    items = {i.name: i for i in world.items.values()}
    chosen = []
    for r in free(world.ledger("goods_donation", "RC")):
        item = items.get(r["item"])
        if not item:
            continue
        # A whole-yuan price within 10% of the reference that makes the value whole thousands.
        for price in range(
            max(1, round(item.price_fen * 0.9 / 100)), item.price_fen * 11 // 1000 + 1
        ):
            if (r["quantity"] * price) % 1000 == 0 and r["amount"] != r["quantity"] * price * 100:
                chosen.append((r, price))
                break
    out = []
    for r, price in pick(rng, chosen, 6):
        r["unit_price"] = price * 100
        r["amount"] = r["quantity"] * price * 100
        touch(r)
        out.append(
            Decoy(
                # The screens may rightly look at these; deterministic tests must not.
                ("ROUND-EXCESS", "BENFORD-1", "BENFORD-2", "SERIES-GAP", "SERIES-REUSE"),
                [r],
                f"捐赠物资按整数目录价{price}元计价",
            )
        )
    return out
