"""Injectors and decoys: goods — stock, receipts into stock, allocation/issue/receipt chains, hoarding,
expired lots and civil masks passed off as medical ones.

Goods move in chains that the generator writes together: a stock-in per lot, then portions, each
an allocation decision, a stock-out and the recipient's receipt on the same day. The helpers find
those chains so an injector can change one link and keep the rest of the world consistent.
Records an injector or decoy has touched are marked `_gk` so the others leave them alone.
"""

from datetime import timedelta

from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    copy_record,
    decoy,
    injector,
    pick,
    remove_record,
)

GRACE_DAYS = 3  # GOODS-UNBOOKED's default `days`
HOARD_DAYS = 7  # STOCK-HOARDED's default `days`
HOARD_MIN = 1000  # STOCK-HOARDED's default `min_qty`
TRANSIT_DAYS = 2  # ALLOC-ISSUE-RECEIPT's default `transit_days`
TOLERANCE = 100  # PRIORITY-NON-DESIGNATED's default `tolerance`


# --- finding the chains ---


def touched(*records) -> bool:
    return any(r.get("_gk") for r in records if r)


def touch(*records) -> None:
    for r in records:
        if r:
            r["_gk"] = True


def item_of(world, name: str):
    return world.item_named(name)


def stock_ins(world) -> list[dict]:
    return [r for r in world.records["stock"] if r["direction"] == "入库"]


def issues_of(world, stock_in: dict) -> list[dict]:
    """The stock-outs of one stock-in's lot, in day order."""
    return sorted(
        (
            r
            for r in world.records["stock"]
            if r["direction"] == "出库"
            and r["lot"] == stock_in["lot"]
            and r["warehouse"] == stock_in["warehouse"]
        ),
        key=lambda r: r["day"],
    )


def chain(world, issue: dict) -> tuple[dict | None, dict | None]:
    """The allocation decision and the receipt that go with one stock-out (same ref, recipient,
    item, day and quantity)."""

    def same(r):
        return (
            r.get("ref") == issue["ref"]
            and r["target"] == issue["target"]
            and r["item"] == issue["item"]
            and r["day"] == issue["day"]
            and r["quantity"] == issue["quantity"]
        )

    alloc = next((r for r in world.records["allocation"] if same(r)), None)
    receipt = next(
        (r for r in world.records["receipt"] if same(r) and r.get("lot") == issue["lot"]), None
    )
    return alloc, receipt


def chains(world, *, item=None, priority=None, undirected=False, until=None) -> list[tuple]:
    """(issue, allocation, receipt) for every untouched stock-out with all three links."""
    out = []
    for issue in world.records["stock"]:
        if issue["direction"] != "出库" or touched(issue):
            continue
        it = item_of(world, issue["item"])
        if item and it.code != item:
            continue
        if priority is not None and it.priority != priority:
            continue
        if until and issue["day"] > until:
            continue
        alloc, receipt = chain(world, issue)
        if not alloc or not receipt or touched(alloc, receipt):
            continue
        if undirected and alloc.get("directed_to"):
            continue
        out.append((issue, alloc, receipt))
    return out


def lot_records(world, lot: str) -> list[tuple[str, dict]]:
    return [
        (kind, r)
        for kind in ("goods_donation", "delivery", "stock", "stock_count")
        for r in world.records[kind]
        if r.get("lot") == lot
    ]


def origin_of(world, stock_in: dict) -> tuple[str, dict] | None:
    """The donation register or delivery record a stock-in books."""
    for kind in ("goods_donation", "delivery"):
        for r in world.records[kind]:
            if r.get("ref") == stock_in["ref"] and r.get("lot") == stock_in["lot"]:
                return kind, r
    return None


def code_of(world, name: str) -> str:
    return world.party_named(name).code


def signer(world, body: str) -> str:
    return next(r["person"] for r in world.records["receipt"] if r["body"] == body)


def move_day(record: dict, day) -> None:
    """Set a row's day, and the 入库/出库 day columns of the stock ledger that has them."""
    record["day"] = day
    for field in ("day_in", "day_out"):
        if record.get(field):
            record[field] = day


def redirect(world, issue, alloc, receipt, to_code: str) -> None:
    """The same portion decided for, issued to and signed by another unit."""
    name = world.parties[to_code].name
    for r in (issue, alloc):
        r["target"] = name
    receipt.update(
        body=to_code,
        target=name,
        person=signer(world, to_code) if world.parties[to_code].kind == "hospital" else "张主任",
        doc_no=f"QS{to_code}-9{len(world.records['receipt']):04d}",
    )


# --- STOCK-CONSERVATION ---


@injector("STOCK-CONSERVATION")
def count_short(world, rng):
    """The closing count finds fewer pieces than the book: goods went missing."""
    out = []
    for c in pick(rng, [c for c in world.records["stock_count"] if c["counted_qty"] >= 10], 2):
        short = rng.randint(1, min(c["counted_qty"], 200))
        c["counted_qty"] -= short
        touch(c)
        out.append(Planted("STOCK-CONSERVATION", [c], f"盘点短少 {short}", quantity=short))
    return out


# --- STOCK-NEGATIVE ---


@injector("STOCK-NEGATIVE")
def issued_before_stocked_in(world, rng):
    """A stock-out dated before the lot's stock-in: the goods went out before they were booked in."""
    out = []
    candidates = []
    for s in stock_ins(world):
        if touched(s) or (s["day"] - world.flows[0].day).days < 3:
            continue
        issues = [i for i in issues_of(world, s) if not touched(i)]
        if issues:
            candidates.append((s, issues[0]))
    for s, first in pick(rng, candidates, 2):
        move_day(first, s["day"] - timedelta(days=rng.randint(1, 3)))
        touch(s, first)
        out.append(
            Planted(
                "STOCK-NEGATIVE",
                [first, s],
                f"{s['warehouse']}批号{s['lot']}出库早于入库",
                quantity=first["quantity"],
            )
        )
    return out


@decoy
def same_day_out_listed_before_in(world, rng):
    """A lot stocked in and issued on one day, the stock-out written on the line above: fine."""
    out = []
    rows = world.records["stock"]
    candidates = []
    for s in stock_ins(world):
        same = [i for i in issues_of(world, s) if i["day"] == s["day"]]
        if same and not touched(s, same[0]):
            candidates.append((s, same[0]))
    for s, first in pick(rng, candidates, 1):
        rows.remove(first)
        rows.insert(rows.index(s), first)
        touch(s, first)
        out.append(Decoy(("STOCK-NEGATIVE",), [first, s], "同日出入库，出库行写在入库行之前"))
    return out


# --- GOODS-UNBOOKED ---


def _drop_lot(world, stock_in: dict) -> None:
    """Remove a stock-in and everything that followed it: its stock-outs, their allocations and
    receipts, and the lot's line in the closing count."""
    for issue in issues_of(world, stock_in):
        alloc, receipt = chain(world, issue)
        remove_record(world, "stock", issue)
        if alloc:
            remove_record(world, "allocation", alloc)
        if receipt:
            remove_record(world, "receipt", receipt)
    for c in [c for c in world.records["stock_count"] if c["lot"] == stock_in["lot"]]:
        remove_record(world, "stock_count", c)
    remove_record(world, "stock", stock_in)


@injector("GOODS-UNBOOKED")
def received_never_stocked_in(world, rng):
    """Goods registered as received (a donation or a delivery) that never entered the stock ledger."""
    last = world.end - timedelta(days=GRACE_DAYS + 2)
    candidates = []
    for s in stock_ins(world):
        origin = origin_of(world, s)
        if (
            origin
            and s["day"] <= last
            and not touched(s, origin[1])
            and not any(touched(i, *chain(world, i)) for i in issues_of(world, s))
        ):
            candidates.append((s, origin))
    out = []
    for s, (_kind, origin) in pick(rng, candidates, 1):
        _drop_lot(world, s)
        touch(origin)
        out.append(
            Planted(
                "GOODS-UNBOOKED",
                [origin],
                f"{origin['ref']}接收后未入库",
                quantity=origin["quantity"],
                amount_fen=origin.get("amount"),
            )
        )
    return out


@injector("GOODS-UNBOOKED")
def received_stocked_in_late(world, rng):
    """A donation registered as received days before the warehouse booked it in."""
    start = world.flows[0].day
    candidates = [
        (s, o[1])
        for s in stock_ins(world)
        if (o := origin_of(world, s))
        and o[0] == "goods_donation"
        and (s["day"] - start).days >= GRACE_DAYS + 8
        and not touched(s, o[1])
    ]
    out = []
    for s, donation in pick(rng, candidates, 1):
        back = timedelta(days=GRACE_DAYS + rng.randint(2, 6))
        donation["day"] -= back
        for d in world.records["disclosure"]:
            if d.get("ref") == donation["ref"]:
                d["day"] -= back  # published as promptly after receipt as before
        touch(s, donation)
        out.append(
            Planted(
                "GOODS-UNBOOKED",
                [donation, s],
                f"{donation['ref']}接收 {back.days} 天后才入库",
                quantity=donation["quantity"],
            )
        )
    return out


@decoy
def delivered_straight_to_hospital(world, rng):
    """A directed donation the donor shipped straight to the hospital, which signed for it: no
    stock-in is due (and no stock-out), the allocation names no warehouse."""
    candidates = []
    for s in stock_ins(world):
        origin = origin_of(world, s)
        if not origin or origin[0] != "goods_donation" or not origin[1].get("directed_to"):
            continue
        issues = issues_of(world, s)
        links = [chain(world, i) for i in issues]
        held = any(c["lot"] == s["lot"] for c in world.records["stock_count"])
        if (
            issues
            and not held
            and all(a and r for a, r in links)
            and not touched(s, origin[1], *issues, *(x for pair in links for x in pair))
        ):
            candidates.append((s, origin[1], issues, links))
    out = []
    for s, donation, issues, links in pick(rng, candidates, 1):
        for i in issues:
            remove_record(world, "stock", i)
        remove_record(world, "stock", s)
        donation["warehouse"] = ""
        records = [donation]
        for alloc, receipt in links:
            alloc["warehouse"] = ""
            alloc["purpose"] = "捐赠方直接配送"
            receipt["warehouse"] = ""
            records += [alloc, receipt]
        touch(*records)
        out.append(
            Decoy(
                ("GOODS-UNBOOKED", "ALLOC-ISSUE-RECEIPT", "STOCK-NEGATIVE"),
                records,
                "定向捐赠物资由捐赠方直接送到医院签收，不经仓库",
            )
        )
    return out


# --- ALLOC-ISSUE-RECEIPT ---


@injector("ALLOC-ISSUE-RECEIPT")
def signed_for_less(world, rng):
    """The hospital signed for fewer pieces than the warehouse issued: goods lost on the way."""
    until = world.end - timedelta(days=TRANSIT_DAYS + 1)
    out = []
    for issue, alloc, receipt in pick(rng, chains(world, until=until), 1):
        per = item_of(world, issue["item"]).per_pack
        packs = issue["quantity"] // per
        short = per * rng.randint(1, max(1, packs // 2)) if packs > 1 else 1
        receipt["quantity"] -= short
        touch(issue, alloc, receipt)
        out.append(
            Planted(
                "ALLOC-ISSUE-RECEIPT",
                [receipt, issue, alloc],
                f"{receipt['target']}少签收 {short}",
                quantity=short,
            )
        )
    return out


@injector("ALLOC-ISSUE-RECEIPT")
def never_signed_for(world, rng):
    """Issued to a hospital that has no receipt for it."""
    until = world.end - timedelta(days=TRANSIT_DAYS + 1)
    out = []
    for issue, alloc, receipt in pick(rng, chains(world, until=until), 1):
        remove_record(world, "receipt", receipt)
        touch(issue, alloc)
        out.append(
            Planted(
                "ALLOC-ISSUE-RECEIPT",
                [issue, alloc],
                f"{issue['target']}无签收",
                quantity=issue["quantity"],
            )
        )
    return out


@decoy
def passed_on_between_hospitals(world, rng):
    """The command moves part of what one designated hospital received on to another: a new
    allocation naming the first hospital as the source, signed for by the second, no stock-out."""
    designated = [p.code for p in world.parties.values() if p.kind == "hospital" and p.designated]
    out = []
    for issue, alloc, receipt in pick(
        rng, chains(world, priority=True, until=world.end - timedelta(days=3)), 1
    ):
        per = item_of(world, issue["item"]).per_pack
        giver = code_of(world, issue["target"])
        taker = rng.choice([h for h in designated if h != giver])
        qty = per * max(1, issue["quantity"] // per // 2)
        day = issue["day"] + timedelta(days=rng.randint(1, 3))
        name = world.parties[taker].name
        moved = copy_record(
            world,
            "allocation",
            alloc,
            day=day,
            doc_no=f"{alloc['doc_no'][:-1]}-调剂号",
            warehouse=issue["target"],
            target=name,
            quantity=qty,
            purpose="医院间调剂",
        )
        signed = copy_record(
            world,
            "receipt",
            receipt,
            body=taker,
            day=day,
            doc_no=f"QS{taker}-8{len(world.records['receipt']):04d}",
            warehouse=issue["target"],
            target=name,
            quantity=qty,
            person=signer(world, taker),
        )
        touch(issue, alloc, receipt, moved, signed)
        out.append(
            Decoy(
                ("ALLOC-ISSUE-RECEIPT", "PRIORITY-NON-DESIGNATED"),
                [moved, signed],
                "定点医院之间调剂，分配与签收一致",
            )
        )
    return out


# --- STOCK-HOARDED ---


def _shift_lot(world, issues: list[dict], by: timedelta) -> None:
    """Every stock-out of a lot, with its allocation and receipt, happens `by` later."""
    links = [chain(world, i) for i in issues]
    for issue, (alloc, receipt) in zip(issues, links, strict=True):
        for r in (issue, alloc, receipt):
            if r:
                move_day(r, r["day"] + by)


def _received(world, target: str, item: str, start, stop) -> int:
    """Pieces a unit got of an item in [start, stop]: the larger of what was issued and signed."""

    def within(r):
        return r["target"] == target and r["item"] == item and start <= r["day"] <= stop

    issued = sum(
        r["quantity"] for r in world.records["stock"] if r["direction"] == "出库" and within(r)
    )
    return max(issued, sum(r["quantity"] for r in world.records["receipt"] if within(r)))


@injector("STOCK-HOARDED")
def priority_batch_held_back(world, rng):
    """A batch of priority goods left untouched for weeks before being issued, while a designated
    hospital asked for that item and went short."""
    designated = [p for p in world.parties.values() if p.kind == "hospital" and p.designated]
    candidates = []
    for s in stock_ins(world):
        it = item_of(world, s["item"])
        issues = issues_of(world, s)
        if not it.priority or s["quantity"] < HOARD_MIN or not issues or touched(s, *issues):
            continue
        if any(touched(*chain(world, i)) for i in issues):
            continue
        room = (world.end - issues[-1]["day"]).days
        if room >= HOARD_DAYS + 4:
            candidates.append((s, issues, room))
    out = []
    for s, issues, room in pick(rng, candidates, 2):
        by = timedelta(days=rng.randint(HOARD_DAYS + 2, min(room, HOARD_DAYS + 10)))
        _shift_lot(world, issues, by)
        start, resumed = s["day"], issues[0]["day"]
        before = resumed - timedelta(days=1)  # what arrived until the batch moved
        open_requests = [
            q
            for q in world.records["request"]
            if q["item"] == s["item"]
            and world.party_named(q["target"]).designated
            and start <= q["day"] < resumed
            and _received(world, q["target"], q["item"], q["day"], before) < q["quantity"]
        ]
        if not open_requests:  # the hospital that got the least of the item asks for it
            day = start + timedelta(days=1)
            got, _, hospital = min(
                (_received(world, h.name, s["item"], day, before), rng.random(), h)
                for h in designated
            )
            it = item_of(world, s["item"])
            need = round(hospital.beds * it.need_per_bed * 2 / it.per_pack) * it.per_pack
            template = next(q for q in world.records["request"] if q["target"] == hospital.name)
            open_requests = [
                copy_record(
                    world,
                    "request",
                    template,
                    day=day,
                    doc_no=f"SQ{hospital.code}-9{len(world.records['request']):04d}",
                    item=s["item"],
                    uom=it.unit,
                    quantity=max(need, got + it.per_pack * rng.randint(5, 20)),
                    purpose="隔离病区急需",
                )
            ]
        touch(s, *issues, *open_requests)
        out.append(
            Planted(
                "STOCK-HOARDED",
                [s, issues[0], *open_requests],
                f"{s['warehouse']}批号{s['lot']}压库 {(resumed - start).days} 天",
                quantity=s["quantity"],
            )
        )
    return out


@decoy
def ordinary_batch_held(world, rng):
    """A batch of non-priority goods (goggles, alcohol, civil masks) kept for a fortnight before
    being issued: not priority stock, so no hoarding of it."""
    candidates = []
    for s in stock_ins(world):
        issues = issues_of(world, s)
        if item_of(world, s["item"]).priority or not issues or touched(s, *issues):
            continue
        if any(touched(*chain(world, i)) for i in issues):
            continue
        if (world.end - issues[-1]["day"]).days >= HOARD_DAYS + 6:
            candidates.append((s, issues))
    out = []
    for s, issues in pick(rng, candidates, 1):
        _shift_lot(world, issues, timedelta(days=HOARD_DAYS + 5))
        touch(s, *issues)
        out.append(Decoy(("STOCK-HOARDED",), [s, issues[0]], "非重点物资批次存放两周后发放"))
    return out


# --- ISSUED-EXPIRED ---


def _set_expiry(world, lot: str, day) -> None:
    for _kind, r in lot_records(world, lot):
        if r.get("expiry"):
            r["expiry"] = day


@injector("ISSUED-EXPIRED")
def issued_after_expiry(world, rng):
    """A short-dated lot (its expiry on every row of the lot) issued after it expired."""
    candidates = []
    for s in stock_ins(world):
        issues = issues_of(world, s)
        if issues and not touched(s, *issues):
            candidates.append((s, issues))
    out = []
    for s, issues in pick(rng, candidates, 2):
        expiry = issues[-1]["day"] - timedelta(days=rng.randint(1, 3))
        _set_expiry(world, s["lot"], expiry)
        late = [i for i in issues if i["day"] > expiry]
        touch(s, *issues)
        out.append(
            Planted(
                "ISSUED-EXPIRED",
                late,
                f"批号{s['lot']}有效期至{expiry}后仍出库",
                quantity=sum(i["quantity"] for i in late),
            )
        )
    return out


@decoy
def issued_on_expiry_day(world, rng):
    """A lot whose last stock-out is on its expiry date: still within the shelf life."""
    candidates = []
    for s in stock_ins(world):
        issues = issues_of(world, s)
        if issues and not touched(s, *issues):
            candidates.append((s, issues))
    out = []
    for s, issues in pick(rng, candidates, 1):
        _set_expiry(world, s["lot"], issues[-1]["day"])
        touch(s, *issues)
        out.append(Decoy(("ISSUED-EXPIRED",), issues, "有效期最后一天出库"))
    return out


# --- CIVIL-MASK-CLINICAL ---


@injector("CIVIL-MASK-CLINICAL")
def kn95_sent_as_n95(world, rng):
    """KN95 (civil, GB 2626) stocked in, but the allocation and the hospital's receipt call the
    portion 医用防护口罩 (GB 19083)."""
    designated = {p.name for p in world.parties.values() if p.designated}
    n95 = world.items["N95"]
    candidates = [
        c
        for c in chains(world, item="KN95", until=world.end - timedelta(days=TRANSIT_DAYS + 1))
        if c[0]["target"] in designated
    ]
    out = []
    for issue, alloc, receipt in pick(rng, candidates, 2):
        for r in (alloc, receipt):
            r["item"] = n95.name
        touch(issue, alloc, receipt)
        out.append(
            Planted(
                "CIVIL-MASK-CLINICAL",
                [alloc, receipt, issue],
                f"{issue['ref']} KN95 以医用防护口罩名义发给{issue['target']}",
                quantity=issue["quantity"],
                # The paperwork now disagrees with the stock-out on the item.
                also=("ALLOC-ISSUE-RECEIPT", "ALLOC-DISPROPORTION"),
            )
        )
    return out


@decoy
def kn95_to_hospital_as_kn95(world, rng):
    """KN95 allocated to a hospital for its administrative staff, recorded as the civil mask it is."""
    out = []
    for issue, alloc, receipt in pick(rng, chains(world, item="KN95"), 1):
        alloc["purpose"] = "行政后勤人员日常防护（民用口罩）"
        touch(issue, alloc, receipt)
        out.append(
            Decoy(
                ("CIVIL-MASK-CLINICAL",), [alloc, receipt, issue], "KN95 按民用口罩如实发给医院后勤"
            )
        )
    return out
