"""Injectors and decoys: public disclosure of donations (missing, wrong, late)."""

from datetime import timedelta

from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    decoy,
    injector,
    pick,
    remove_record,
)
from fangkong.relief.synthetic.injectors.procurement import free, touch


def _donations(world):
    return [
        (kind, r)
        for kind in ("cash_donation", "goods_donation")
        for r in free(world.records[kind])
        if r.get("ref")
    ]


def _disclosures(world, ref):
    return [d for d in world.records["disclosure"] if d.get("ref") == ref]


def _at_risk(kind, donation) -> dict:
    if kind == "cash_donation":
        return {"amount_fen": donation["amount"]}
    return {"quantity": donation["quantity"]}


@injector("DISC-MISSING")
def donation_never_disclosed(world, rng):
    """A donation well before the period end that the charity never published."""
    rows = [
        (kind, r)
        for kind, r in _donations(world)
        if r["day"] + timedelta(days=10) <= world.end and _disclosures(world, r["ref"])
    ]
    out = []
    for kind, r in pick(rng, rows, 2):
        for d in _disclosures(world, r["ref"]):
            remove_record(world, "disclosure", d)
        touch(r)
        out.append(
            Planted("DISC-MISSING", [r], f"{r['ref']}未公示", **_at_risk(kind, r)),
        )
    return out


@injector("DISC-WRONG")
def disclosed_differently(world, rng):
    """Published with a smaller sum, fewer pieces, or civil KN95 masks as medical N95 masks."""
    rows = [(kind, r) for kind, r in _donations(world) if len(_disclosures(world, r["ref"])) == 1]
    kn95 = [(k, r) for k, r in rows if k == "goods_donation" and r["item"].startswith("KN95")]
    chosen = pick(rng, kn95, 1) + pick(rng, [x for x in rows if x not in kn95], 1)
    n95 = world.items["N95"]
    out = []
    for kind, r in chosen:
        d = _disclosures(world, r["ref"])[0]
        if kind == "goods_donation" and r["item"].startswith("KN95"):
            d["item"], d["uom"] = n95.name, n95.unit
            note = f"{r['ref']}民用KN95公示为{n95.name}"
            risk = {}
        elif kind == "cash_donation":
            cut = max(100, int(round(r["amount"] * rng.uniform(0.1, 0.5), -4)))
            d["amount"] = r["amount"] - cut
            note = f"{r['ref']}公示金额少 {cut / 100:.2f} 元"
            risk = {"amount_fen": cut}
        else:
            per = world.item_named(r["item"]).per_pack
            fewer = per * rng.randint(1, max(1, r["quantity"] // per // 2))
            d["quantity"] = r["quantity"] - fewer
            note = f"{r['ref']}公示数量少 {fewer}"
            risk = {"quantity": fewer}
        touch(r, d)
        out.append(Planted("DISC-WRONG", [r, d], note, **risk))
    return out


@injector("DISC-LATE")
def disclosed_late(world, rng):
    rows = [
        (kind, r)
        for kind, r in _donations(world)
        if r["day"] + timedelta(days=9) <= world.end and len(_disclosures(world, r["ref"])) == 1
    ]
    out = []
    for kind, r in pick(rng, rows, 2):
        d = _disclosures(world, r["ref"])[0]
        d["day"] = min(r["day"] + timedelta(days=rng.randint(9, 25)), world.end)
        d["doc_no"] = f"{d['doc_no'].rsplit('-', 1)[0]}-{d['day']:%m%d}"
        touch(r, d)
        out.append(
            Planted(
                "DISC-LATE",
                [r, d],
                f"{r['ref']}登记后 {(d['day'] - r['day']).days} 天才公示",
                **_at_risk(kind, r),
            )
        )
    return out


@decoy
def round_catalogue_value(world, rng):
    """Goods valued at a round catalogue figure (so many 万元) and published at that value."""
    rows = [
        r
        for r in free(world.records["goods_donation"])
        if r["body"] == "RC" and r.get("amount") and len(_disclosures(world, r["ref"])) == 1
    ]
    out = []
    for r in pick(rng, rows, 2):
        d = _disclosures(world, r["ref"])[0]
        r["amount"] = max(1, round(r["amount"] / 1_000_000)) * 1_000_000
        d["amount"] = r["amount"]
        touch(r, d)
        out.append(
            Decoy(
                ("DISC-MISSING", "DISC-WRONG", "DISC-LATE", "RELATED-BENEFICIARY"),
                [r, d],
                "捐赠物资按目录价估值为整数万元并如实公示",
            )
        )
    return out
