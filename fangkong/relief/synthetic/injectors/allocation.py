"""Injectors and decoys: allocation — priority items to units not designated for them, and a
batch given to one small hospital out of all proportion to its beds."""

from datetime import timedelta

from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    copy_record,
    decoy,
    injector,
    pick,
)
from fangkong.relief.synthetic.injectors.goods import TOLERANCE, chains, redirect, signer, touch

DISPROPORTION_SHARE = 0.85  # the small hospital's share of an item after the plant


def _small_hospital(world):
    """The non-designated hospital with the fewest beds (the maternity hospital)."""
    return min(
        (p for p in world.parties.values() if p.kind == "hospital" and not p.designated),
        key=lambda p: p.beds,
    )


# --- PRIORITY-NON-DESIGNATED ---


@injector("PRIORITY-NON-DESIGNATED")
def priority_to_non_designated(world, rng):
    """A portion of N95 masks, surgical masks or suits decided for, issued to and signed by the
    non-designated maternity hospital, and another by the health commission's own offices."""
    small = _small_hospital(world).code
    office = next(p.code for p in world.parties.values() if p.name.endswith("卫生健康委员会"))
    candidates = [
        c for c in chains(world, priority=True, undirected=True) if c[0]["quantity"] > 2 * TOLERANCE
    ]
    rng.shuffle(candidates)
    out = []
    for to in (small, office):
        if not candidates:
            break
        issue, alloc, receipt = candidates.pop()
        redirect(world, issue, alloc, receipt, to)
        touch(issue, alloc, receipt)
        out.append(
            Planted(
                "PRIORITY-NON-DESIGNATED",
                [alloc, issue, receipt],
                f"{issue['item']} {issue['quantity']} 分给非定点单位{world.parties[to].name}",
                quantity=issue["quantity"],
                also=("ALLOC-DISPROPORTION",),
            )
        )
    return out


@decoy
def few_masks_for_a_fever_clinic(world, rng):
    """Two boxes of N95 split off a portion for the maternity hospital's fever clinic: within the
    tolerance for non-designated units."""
    small = _small_hospital(world).code
    n95 = world.items["N95"]
    candidates = [c for c in chains(world, item="N95", undirected=True) if c[0]["quantity"] >= 200]
    out = []
    for issue, alloc, receipt in pick(rng, candidates, 1):
        qty = 2 * n95.per_pack
        split = []
        for kind, r in (("stock", issue), ("allocation", alloc), ("receipt", receipt)):
            r["quantity"] -= qty
            if kind == "stock":
                r["qty_out"] = r["quantity"]
            split.append(copy_record(world, kind, r, quantity=qty))
        split[0]["qty_out"] = qty
        split[0]["doc_no"] = f"{issue['doc_no']}-1"
        split[1]["doc_no"] = f"{alloc['doc_no'][:-1]}-1号"
        split[1]["purpose"] = "非定点医院发热门诊预检分诊"
        redirect(world, *split, small)
        touch(issue, alloc, receipt, *split)
        out.append(Decoy(("PRIORITY-NON-DESIGNATED",), split, "非定点医院发热门诊少量医用防护口罩"))
    return out


# --- ALLOC-DISPROPORTION ---


def _new_batch(world, rng, *, item_code: str, qty: int, to: str, directed: bool, tag: str):
    """A new goods donation to the Red Cross, stocked in and allocated entirely to `to` in a few
    portions over a week, each issued and signed for: a whole chain across the ledgers."""
    it = world.items[item_code]
    goods = {"item": it.name, "spec": it.spec, "standard": it.standard, "uom": it.unit}
    # A Red Cross donation with its stock-in and disclosure, as the pattern of the new rows.
    template, stock_in, disclosure = next(
        (g, s, d)
        for g in world.records["goods_donation"]
        if g["body"] == "RC"
        for s in world.records["stock"]
        if s["direction"] == "入库" and s["ref"] == g["ref"]
        for d in world.records["disclosure"]
        if d.get("ref") == g["ref"]
    )
    out_row = next(
        r for r in world.records["stock"] if r["direction"] == "出库" and r["body"] == "WH1"
    )
    alloc_t = next(r for r in world.records["allocation"] if r["body"] == "RC")
    receipt_t = next(r for r in world.records["receipt"] if r["body"] == to)
    day = world.end - timedelta(days=rng.randint(15, 25))
    ref = f"WZ{day:%m%d}9{tag}"
    lot = f"{day - timedelta(days=20):%Y%m%d}9{tag}{rng.randint(0, 99):02d}"
    expiry = day + timedelta(days=365 * it.shelf_years)
    name = world.parties[to].name
    donation = copy_record(
        world,
        "goods_donation",
        template,
        day=day,
        doc_no=f"HWJ20209{tag}{rng.randint(100, 999)}",
        ref=ref,
        **goods,
        unit_price=it.price_fen,
        quantity=qty,
        amount=qty * it.price_fen,
        lot=lot,
        expiry=expiry,
        directed_to=name if directed else "",
    )
    copy_record(
        world,
        "stock",
        stock_in,
        day=day,
        day_in=day,
        qty_in=qty,
        quantity=qty,
        doc_no=f"RK1-9{tag}{rng.randint(100, 999)}",
        ref=ref,
        **goods,
        source=donation["source"],
        lot=lot,
        expiry=expiry,
    )
    copy_record(
        world,
        "disclosure",
        disclosure,
        day=day + timedelta(days=2),
        doc_no=f"HHGS-{day + timedelta(days=2):%m%d}",
        ref=ref,
        item=it.name,
        uom=it.unit,
        quantity=qty,
        directed_to=donation["directed_to"],
    )
    portions = rng.randint(4, 7)
    packs = qty // it.per_pack
    allocations = []
    for k in range(portions):
        part = (packs // portions + (1 if k < packs % portions else 0)) * it.per_pack
        when = day + timedelta(days=k)
        allocations.append(
            copy_record(
                world,
                "allocation",
                alloc_t,
                day=when,
                doc_no=f"黄红字〔2020〕9{tag}{k}号",
                ref=ref,
                warehouse=stock_in["warehouse"],
                target=name,
                item=it.name,
                quantity=part,
                uom=it.unit,
                purpose="疫情防控一线使用",
                directed_to=donation["directed_to"],
            )
        )
        copy_record(
            world,
            "stock",
            out_row,
            day=when,
            day_out=when,
            qty_out=part,
            quantity=part,
            doc_no=f"CK1-9{tag}{k}",
            ref=ref,
            item=it.name,
            spec=it.spec,
            standard=it.standard,
            uom=it.unit,
            target=name,
            lot=lot,
            expiry=expiry,
        )
        copy_record(
            world,
            "receipt",
            receipt_t,
            day=when,
            doc_no=f"QS{to}-9{tag}{k}",
            ref=ref,
            warehouse=stock_in["warehouse"],
            target=name,
            item=it.name,
            quantity=part,
            uom=it.unit,
            person=signer(world, to),
            lot=lot,
        )
    touch(donation, *allocations)
    return allocations


def _undirected(world, item_name: str, target: str | None = None) -> int:
    return sum(
        r["quantity"]
        for r in world.records["allocation"]
        if r["item"] == item_name
        and not r.get("directed_to")
        and (target is None or r["target"] == target)
    )


def _batch_size(world, item_code: str, to: str, share: float) -> int:
    """Pieces that lift `to`'s share of the item's undirected allocations to `share`."""
    it = world.items[item_code]
    total = _undirected(world, it.name)
    own = _undirected(world, it.name, world.parties[to].name)
    pieces = (share * total - own) / (1 - share)
    return max(1, round(pieces / it.per_pack)) * it.per_pack


@injector("ALLOC-DISPROPORTION")
def batch_to_small_hospital(world, rng):
    """The Red Cross gives a big batch of civil masks and of goggles or alcohol to the
    maternity hospital (200 beds), several times what the main COVID hospitals get."""
    small = _small_hospital(world).code
    out = []
    for tag, item_code in (("1", "KN95"), ("2", rng.choice(["GOGG", "ALC"]))):
        qty = _batch_size(world, item_code, small, DISPROPORTION_SHARE)
        allocations = _new_batch(
            world, rng, item_code=item_code, qty=qty, to=small, directed=False, tag=tag
        )
        out.append(
            Planted(
                "ALLOC-DISPROPORTION",
                allocations,
                f"{world.items[item_code].name} {qty} 全部分给{world.parties[small].name}",
                quantity=qty,
            )
        )
    return out


@decoy
def big_directed_gift_to_small_hospital(world, rng):
    """A donor gives a large batch to the maternity hospital by name (定向捐赠): the allocator
    followed the donor's will, so the share is not the allocator's choice."""
    small = _small_hospital(world).code
    qty = _batch_size(world, "ALC", small, DISPROPORTION_SHARE)
    allocations = _new_batch(world, rng, item_code="ALC", qty=qty, to=small, directed=True, tag="3")
    return [Decoy(("ALLOC-DISPROPORTION",), allocations, "定向捐赠给妇幼保健院的大批物资")]
