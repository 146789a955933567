"""Injectors and decoys: money in (idle funds)."""

from datetime import timedelta

from fangkong.relief.injectors import Planted, injector, pick, remove_record


@injector("FUND-IDLE")
def donation_never_paid_out(world, rng):
    """A cash donation early in the period whose payout (and its bank debit) never happened."""
    early = [
        r
        for r in world.records["cash_donation"]
        if r["day"] + timedelta(days=25) < world.end and r["amount"] >= 100_000
    ]
    out = []
    for donation in pick(rng, early, 2):
        ref = donation["ref"]
        pays = [p for p in world.records["payment"] if p.get("ref") == ref]
        if not pays:
            continue
        for p in pays:
            remove_record(world, "payment", p)
        for b in [b for b in world.records["bank"] if b.get("_ref") == ref and b.get("amount_out")]:
            remove_record(world, "bank", b)
        out.append(
            Planted("FUND-IDLE", [donation], f"捐赠{ref}未拨付", amount_fen=donation["amount"])
        )
    return out
