"""Injectors and decoys: payments (duplicates, shared invoices, payees, earmarks, splits, directed gifts)."""

from datetime import timedelta

from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    copy_record,
    decoy,
    injector,
    pick,
)
from fangkong.relief.synthetic.injectors.money import claim, free, touch


def _fiscal(world):
    return [r for r in free(world.records["payment"]) if r.get("invoice_no")]


def _charity(world):
    return [r for r in free(world.records["payment"]) if not r.get("invoice_no")]


@injector("PAY-DUP-INVOICE")
def pay_twice_on_one_invoice(world, rng):
    out = []
    for r in pick(rng, _fiscal(world), 2):
        day = min(r["day"] + timedelta(days=rng.randint(2, 20)), world.end)
        dup = copy_record(world, "payment", r, day=day, doc_no=f"{r['doc_no']}-2")
        touch(r, dup)
        out.append(Planted("PAY-DUP-INVOICE", [dup], "同一发票再付一次", amount_fen=r["amount"]))
    return out


@injector("PAY-DUP-NEAR")
def pay_twice_within_days(world, rng):
    out = []
    for r in pick(rng, _charity(world), 2):
        day = min(r["day"] + timedelta(days=rng.randint(1, 5)), world.end)
        dup = copy_record(world, "payment", r, day=day, doc_no=f"{r['doc_no']}B")
        touch(r, dup)
        out.append(
            Planted(
                "PAY-DUP-NEAR",
                [dup],
                "数日内同额再付一次",
                amount_fen=r["amount"],
                also=("FUND-IDLE",),
            )
        )
    return out


@injector("PAY-INVOICE-SHARED")
def one_invoice_two_payees(world, rng):
    chosen = pick(rng, _fiscal(world), 2)
    out = []
    for a in chosen:
        # Neither the other chosen invoice nor a payment already given one (its pair would break).
        others = [
            r
            for r in _fiscal(world)
            if r["target"] != a["target"] and all(r is not c for c in chosen)
        ]
        if not others:
            continue
        b = rng.choice(others)
        b["invoice_no"] = a["invoice_no"]
        touch(a, b)
        out.append(
            Planted(
                "PAY-INVOICE-SHARED",
                [b],
                "他人发票用于另一收款单位",
                amount_fen=b["amount"],
                also=("PAY-DUP-INVOICE",),
            )
        )
    return out


@decoy
def genuine_repeat_a_month_later(world, rng):
    """A supplier paid the same amount again a month later, for a new invoice: legitimate."""
    out = []
    for r in pick(
        rng, [r for r in _fiscal(world) if r["day"] + timedelta(days=30) <= world.end], 2
    ):
        again = copy_record(
            world,
            "payment",
            r,
            day=r["day"] + timedelta(days=30),
            doc_no=f"{r['doc_no']}-M",
            invoice_no=f"{r['invoice_no']}9",
        )
        touch(r, again)
        out.append(
            Decoy(("PAY-DUP-NEAR", "PAY-DUP-INVOICE"), [again], "一个月后按新发票再次同额付款")
        )
    return out


# --- payees ---


@injector("PAYEE-FUZZY")
def paid_into_someone_elses_account(world, rng):
    """A supplier's payment sent to another supplier's account, and a charity's payout to one
    hospital sent to another hospital's account (its bank debit too)."""
    out = []
    for r in pick(rng, _fiscal(world), 1):
        # Another supplier's account as its own payments show it.
        accounts = {
            p["target"]: p["account"]
            for p in world.records["payment"]
            if p.get("invoice_no") and p["target"] != r["target"] and p.get("account")
        }
        if not accounts:
            break
        other = rng.choice(sorted(accounts))
        r["account"] = accounts[other]
        claim(world, r)  # a new supplier put on its contract would take its account away
        out.append(
            Planted("PAYEE-FUZZY", [r], f"付给{r['target']}的款项汇入{other}的账户", r["amount"])
        )
    hospitals = [p for p in world.parties.values() if p.kind == "hospital"]
    for r in pick(rng, _charity(world), 1):
        other = rng.choice([h for h in hospitals if h.name != r["target"]])
        debits = []
        r["account"] = other.account
        for b in world.records["bank"]:
            if b.get("_ref") == r["ref"] and b.get("amount_out") == r["amount"]:
                b["counter_account"] = other.account
                touch(b)
                debits.append(b)
        touch(r)
        out.append(
            Planted(
                "PAYEE-FUZZY",
                [r, *debits],
                f"拨给{r['target']}的款项汇入{other.name}的账户",
                r["amount"],
            )
        )
    return out


# --- earmarks ---

OFF_CODES = ("30217 公务接待费", "31013 公务用车购置", "30229 福利费", "30231 公务用车运行维护费")
OFF_PURPOSES = ("办公楼装修工程款", "购置办公家具", "机关公务用车购置款", "疫情期间公务接待费用")


@injector("EARMARK")
def spent_off_purpose(world, rng):
    """A treasury payment booked to an economic code outside epidemic spending, and a payment whose
    purpose is office renovation, furniture, a car or hospitality."""
    out = []
    first = pick(rng, _fiscal(world), 1)
    for r in first:
        r["economic_code"] = rng.choice(OFF_CODES)
        touch(r)
        out.append(Planted("EARMARK", [r], f"经济分类{r['economic_code']}", r["amount"]))
    for r in pick(rng, [p for p in free(world.records["payment"])], 1):
        r["purpose"] = rng.choice(OFF_PURPOSES)
        touch(r)
        out.append(Planted("EARMARK", [r], f"用途“{r['purpose']}”", r["amount"]))
    return out


@decoy
def negative_pressure_ambulance(world, rng):
    """A vehicle bought for the epidemic: a negative-pressure ambulance, booked as special
    equipment. Vehicles are off purpose, ambulances are not."""
    out = []
    for r in pick(rng, _fiscal(world), 1):
        r["purpose"] = "购置负压救护车辆（疫情防控转运专用）"
        r["economic_code"] = "31003 专用设备购置"
        touch(r)
        out.append(Decoy(("EARMARK",), [r], "负压救护车属于防控专用设备"))
    return out


# --- splitting a purchase ---

LIMITS = (10_000_00, 50_000_00, 200_000_00)  # fen


@injector("SPLIT-PURCHASE")
def split_below_limit(world, rng):
    """One supplier payment above an approval limit paid in 2–5 parts, each just below it, on
    consecutive days, with their own invoices and vouchers; the total stays what it was."""
    invoices = [r.get("invoice_no") for r in world.records["payment"]]
    vouchers = {r.get("doc_no") for r in world.records["payment"]}
    candidates = []
    for r in _fiscal(world):
        if invoices.count(r["invoice_no"]) > 1:
            continue
        for limit in LIMITS:
            k = -(-r["amount"] // (limit * 97 // 100))  # parts of at most 97% of the limit
            if 2 <= k <= 5 and r["amount"] >= k * limit * 84 // 100:
                candidates.append((r, limit, k))
                break
    out = []
    for r, limit, k in pick(rng, candidates, 2):
        # Unequal parts between 82% and 99% of the limit that add up to the payment.
        while True:
            cuts = [rng.randint(limit * 82 // 100, limit * 99 // 100) for _ in range(k - 1)]
            last = r["amount"] - sum(cuts)
            parts = [*cuts, last]
            if limit * 82 // 100 <= last < limit and len(set(parts)) == k:
                break
        rows, day = [r], r["day"]
        r["amount"] = parts[0]
        for i, part in enumerate(parts[1:], 2):
            day = min(day + timedelta(days=rng.randint(0, 1)), world.end)
            while True:
                invoice = f"{r['invoice_no'][:2]}9{rng.randint(0, 99_999):05d}"
                if invoice not in invoices:
                    invoices.append(invoice)
                    break
            voucher = f"{r['doc_no']}-{i}"
            while voucher in vouchers:
                voucher += "a"
            vouchers.add(voucher)
            rows.append(
                copy_record(
                    world,
                    "payment",
                    rows[-1],
                    day=day,
                    amount=part,
                    doc_no=voucher,
                    invoice_no=invoice,
                )
            )
        claim(world, *rows)  # repricing the contract would move the parts off the limit
        out.append(
            Planted(
                "SPLIT-PURCHASE",
                rows,
                f"拆成 {k} 笔，每笔低于 {limit / 100:,.0f} 元",
                amount_fen=sum(parts),
            )
        )
    return out


# --- directed donations ---


def _directed_payments(world):
    """Payments of directed cash donations with the register row they come from."""
    directed = {r["ref"]: r for r in world.records["cash_donation"] if r.get("directed_to")}
    return [
        (p, directed[p["ref"]])
        for p in free(world.records["payment"])
        if p.get("ref") in directed and p["target"] == directed[p["ref"]]["directed_to"]
    ]


def _redirect(world, rng, pay, gift):
    """Pay a directed gift to another hospital instead (its account; the bank debit too)."""
    hospitals = [p for p in world.parties.values() if p.kind == "hospital"]
    other = rng.choice([h for h in hospitals if h.name != gift["directed_to"]])
    pay["target"] = other.name
    pay["account"] = other.account
    for b in world.records["bank"]:
        if b.get("_ref") == pay["ref"] and b.get("amount_out") == pay["amount"]:
            b["counterparty"] = other.name
            b["counter_account"] = other.account
    return other


@injector("DIRECTED-NOT-HONOURED")
def directed_paid_elsewhere(world, rng):
    out = []
    for pay, gift in pick(rng, _directed_payments(world), 2):
        other = _redirect(world, rng, pay, gift)
        touch(pay)
        out.append(
            Planted(
                "DIRECTED-NOT-HONOURED",
                [pay],
                f"定向{gift['directed_to']}的捐款拨给了{other.name}",
                amount_fen=pay["amount"],
            )
        )
    return out


@decoy
def redirect_with_consent(world, rng):
    """A directed gift paid to another hospital after the donor agreed in writing."""
    out = []
    for pay, gift in pick(rng, _directed_payments(world), 1):
        _redirect(world, rng, pay, gift)
        pay["consent"] = f"捐赠人书面同意变更（{gift['day'] + timedelta(days=1):%Y-%m-%d} 函）"
        touch(pay)
        out.append(Decoy(("DIRECTED-NOT-HONOURED",), [pay], "捐赠人书面同意后变更受赠单位"))
    return out
