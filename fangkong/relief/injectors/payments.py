"""Injectors and decoys: payments (duplicates, shared invoices)."""

from datetime import timedelta

from fangkong.relief.injectors import Decoy, Planted, copy_record, decoy, injector, pick


def _fiscal(world):
    return [r for r in world.records["payment"] if r.get("invoice_no")]


def _charity(world):
    return [r for r in world.records["payment"] if not r.get("invoice_no")]


@injector("PAY-DUP-INVOICE")
def pay_twice_on_one_invoice(world, rng):
    out = []
    for r in pick(rng, _fiscal(world), 2):
        day = min(r["day"] + timedelta(days=rng.randint(2, 20)), world.end)
        dup = copy_record(world, "payment", r, day=day, doc_no=f"{r['doc_no']}-2")
        out.append(Planted("PAY-DUP-INVOICE", [dup], "同一发票再付一次", amount_fen=r["amount"]))
    return out


@injector("PAY-DUP-NEAR")
def pay_twice_within_days(world, rng):
    out = []
    for r in pick(rng, _charity(world), 2):
        day = min(r["day"] + timedelta(days=rng.randint(1, 5)), world.end)
        dup = copy_record(world, "payment", r, day=day, doc_no=f"{r['doc_no']}B")
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
    rows = _fiscal(world)
    out = []
    for a in pick(rng, rows, 2):
        others = [r for r in rows if r["target"] != a["target"] and r is not a]
        if not others:
            continue
        b = rng.choice(others)
        b["invoice_no"] = a["invoice_no"]
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
        out.append(
            Decoy(("PAY-DUP-NEAR", "PAY-DUP-INVOICE"), [again], "一个月后按新发票再次同额付款")
        )
    return out
