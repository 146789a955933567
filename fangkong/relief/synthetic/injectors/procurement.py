"""Injectors and decoys: procurement (prices, paperwork, new and related suppliers, payment
without delivery) and related beneficiaries of charity payments."""

import statistics
from collections import defaultdict
from datetime import timedelta

from fangkong.relief.catalogue.procurement import WHAT
from fangkong.relief.synthetic.injectors.base import (
    Decoy,
    Planted,
    decoy,
    injector,
    pick,
    remove_record,
)
from fangkong.relief.synthetic.world import START


def touch(*records) -> None:
    """Mark records an injector changed, so the next injector leaves them alone."""
    for r in records:
        r["_planted"] = True


def free(rows):
    return [r for r in rows if not r.get("_planted")]


def payments_for(world, contract):
    """The fiscal payments that name the contract in their summary."""
    no = contract["doc_no"]
    return [p for p in world.records["payment"] if no in (p.get("purpose") or "")]


def deliveries_for(world, contract):
    return [d for d in world.records["delivery"] if d.get("ref") == contract["doc_no"]]


def reprice(world, contract, price: int) -> int:
    """Sign the contract at `price` per piece; its payment and appropriation follow. Returns the
    change of the contract amount."""
    delta = price * contract["quantity"] - contract["amount"]
    contract["unit_price"] = price
    contract["amount"] += delta
    for p in payments_for(world, contract):
        p["amount"] += delta
        for a in world.records["appropriation"]:
            if a.get("ref") == p.get("ref"):
                a["amount"] += delta
                break
    return delta


@injector("PRICE-OUTLIER-WEEK")
def price_far_above_the_week(world, rng):
    """A contract priced at several times what the other contracts for the item paid that week."""
    groups = defaultdict(list)
    for c in world.records["contract"]:
        groups[(c["item"], c["day"].isocalendar()[:2])].append(c)
    usable = [g for g in groups.values() if len(g) > 1 and not any(c.get("_planted") for c in g)]
    out = []
    for group in pick(rng, usable, 2):
        c = rng.choice(group)
        peers = [p["unit_price"] for p in group if p is not c]
        price = round(max(peers) * rng.uniform(2.4, 3.5))
        reprice(world, c, price)
        touch(c)
        out.append(
            Planted(
                "PRICE-OUTLIER-WEEK",
                [c],
                f"{c['doc_no']}单价抬高到同周中位价的 {price / statistics.median(peers):.1f} 倍",
                amount_fen=round((price - statistics.median(peers)) * c["quantity"]),
                quantity=c["quantity"],
                also=("PRICE-OUTLIER-BENCHMARK",),
            )
        )
    return out


@injector("PRICE-OUTLIER-BENCHMARK")
def price_far_above_the_reference(world, rng):
    reference = {r["item"]: r["unit_price"] for r in world.records["price_list"]}
    out = []
    for c in pick(rng, free(world.records["contract"]), 2):
        base = reference[c["item"]]
        price = round(base * rng.uniform(3.5, 5.0))
        reprice(world, c, price)
        touch(c)
        out.append(
            Planted(
                "PRICE-OUTLIER-BENCHMARK",
                [c],
                f"{c['doc_no']}单价为参考价的 {price / base:.1f} 倍",
                amount_fen=(price - base) * c["quantity"],
                quantity=c["quantity"],
                also=("PRICE-OUTLIER-WEEK",),
            )
        )
    return out


@injector("CONTRACT-AFTER-DELIVERY")
def contract_signed_after_delivery(world, rng):
    """The paperwork came later: the contract is dated days after the goods arrived."""
    rows = []
    for c in free(world.records["contract"]):
        days = [d["day"] for d in deliveries_for(world, c)]
        if days and min(days) < world.end:
            rows.append((c, min(days)))
    out = []
    for c, first in pick(rng, rows, 2):
        c["day"] = min(first + timedelta(days=rng.randint(1, 5)), world.end)
        touch(c)
        out.append(
            Planted(
                "CONTRACT-AFTER-DELIVERY",
                [c],
                f"{c['doc_no']}到货后 {(c['day'] - first).days} 天才签合同",
                amount_fen=c["amount"],
            )
        )
    return out


@injector("SOLE-SOURCE-UNJUSTIFIED")
def sole_source_without_reason(world, rng):
    rows = [c for c in free(world.records["contract"]) if c["method"] == "单一来源"]
    out = []
    for c in pick(rng, rows, 2):
        c["justification"] = ""
        touch(c)
        out.append(
            Planted(
                "SOLE-SOURCE-UNJUSTIFIED",
                [c],
                f"{c['doc_no']}单一来源无理由",
                amount_fen=c["amount"],
            )
        )
    return out


@decoy
def documented_sole_source(world, rng):
    """A negotiated purchase re-awarded to a single source, with the reason on file: legitimate."""
    rows = [c for c in free(world.records["contract"]) if c["method"] != "单一来源"]
    out = []
    for n, c in enumerate(pick(rng, rows, 2), 1):
        c["method"] = "单一来源"
        c["justification"] = (
            f"详见单一来源采购情况说明（黄卫采〔2020〕{n + 10}号）：疫情期间仅该企业有合格现货"
        )
        touch(c)
        out.append(Decoy(("SOLE-SOURCE-UNJUSTIFIED",), [c], "单一来源采购，理由已写明"))
    return out


_SHELL_WORDS = ("安康", "佑民", "同心", "众诚", "华康", "卫康")
_SHELL_TRADES = ("医疗科技", "商贸", "贸易", "医药", "防护用品")
_SHELL_ROADS = ("宝塔大道", "明珠大道", "考棚街", "胜利街")


@injector("SUPPLIER-NEW")
def shell_supplier(world, rng):
    """A contract (with its delivery and payment) awarded to a company set up days before."""
    taken = {p.name for p in world.parties.values()}
    out = []
    for c in pick(rng, free(world.records["contract"]), 2):
        while True:
            name = f"黄冈市{rng.choice(_SHELL_WORDS)}{rng.choice(_SHELL_TRADES)}有限公司"
            if name not in taken:
                taken.add(name)
                break
        span = (c["day"] - START).days
        registered = (
            START + timedelta(days=rng.randint(0, span))
            if span > 0
            else c["day"] - timedelta(days=rng.randint(5, 60))
        )
        account = f"4210{rng.randrange(10**14):014d}"
        old = c["source"]
        c.update(
            source=name,
            phone=f"0713-{rng.randint(6_000_000, 6_999_999)}",
            address=f"湖北省黄冈市黄州区{rng.choice(_SHELL_ROADS)}{rng.randint(1, 300)}号",
            account=account,
            registered_on=registered,
        )
        for d in deliveries_for(world, c):
            d["source"] = name
        for s in world.records["stock"]:
            if s.get("ref") == c["doc_no"] and s.get("source") == old:
                s["source"] = name
        for p in payments_for(world, c):
            p.update(target=name, account=account)
            touch(p)
        touch(c)
        out.append(
            Planted(
                "SUPPLIER-NEW",
                [c],
                f"{name}成立于{registered:%Y-%m-%d}，{c['day']:%Y-%m-%d}签约",
                amount_fen=c["amount"],
            )
        )
    return out


def _supplier_accounts(world):
    """Supplier name → the account its payments went to."""
    return {p["target"]: p["account"] for p in world.records["payment"] if p.get("invoice_no")}


@injector("SUPPLIER-STAFF-LINK")
def supplier_shares_contact_with_staff(world, rng):
    """A staff member's phone, home address or bank account is the supplier's."""
    accounts = _supplier_accounts(world)
    suppliers = {}
    for c in world.records["contract"]:
        suppliers.setdefault(c["source"], c)
    out = []
    chosen = pick(rng, sorted(suppliers), 2)
    for supplier, staff in zip(chosen, pick(rng, free(world.records["staff"]), 2), strict=False):
        c = suppliers[supplier]
        how = rng.choice(["phone", "address", "account"] if supplier in accounts else ["phone"])
        if how == "phone":
            area, number = c["phone"].split("-", 1)
            staff["phone"] = rng.choice([f"{area} {number}", f"({area}){number}", c["phone"]])
        elif how == "address":
            staff["address"] = c["address"].removeprefix("湖北省")
        else:
            staff["account"] = accounts[supplier]
        touch(staff)
        out.append(
            Planted(
                "SUPPLIER-STAFF-LINK",
                [staff],
                f"{staff['person']}与{supplier}的{WHAT[how]}相同",
            )
        )
    return out


@injector("PAID-NOT-RECEIVED")
def paid_but_never_delivered(world, rng):
    """The last delivery of a paid contract never came: no acceptance, stock-in or issue of it."""
    rows = [
        c
        for c in free(world.records["contract"])
        if deliveries_for(world, c) and payments_for(world, c)
    ]
    out = []
    for c in pick(rng, rows, 2):
        last = max(deliveries_for(world, c), key=lambda d: (d["day"], d["doc_no"]))
        _drop_lot(world, c["doc_no"], last["lot"])
        remove_record(world, "delivery", last)
        pays = payments_for(world, c)
        touch(c, *pays)
        out.append(
            Planted(
                "PAID-NOT-RECEIVED",
                [c, *pays],
                f"{c['doc_no']}已付款，{last['quantity']} 件未到货",
                amount_fen=last["quantity"] * c["unit_price"],
                quantity=last["quantity"],
            )
        )
    return out


def _drop_lot(world, ref, lot) -> None:
    """Remove a lot's stock-in, its issues with their allocations and receipts, and its count."""
    for s in [s for s in world.records["stock"] if s.get("lot") == lot]:
        if s["direction"] == "出库":
            for a in world.records["allocation"]:
                if (a["ref"], a["day"], a["target"], a["quantity"]) == (
                    ref,
                    s["day"],
                    s["target"],
                    s["quantity"],
                ):
                    remove_record(world, "allocation", a)
                    break
        remove_record(world, "stock", s)
    for kind in ("receipt", "stock_count"):
        for r in [r for r in world.records[kind] if r.get("lot") == lot]:
            remove_record(world, kind, r)


@injector("RELATED-BENEFICIARY")
def payout_to_related_account(world, rng):
    """A charity pays a donation out into the donor's own account or a charity manager's."""
    donors = {d["ref"]: d["source"] for d in world.records["cash_donation"]}
    pays = [
        p
        for p in free(world.records["payment"])
        if p.get("ref") in donors and p["body"] in ("RC", "CF")
    ]
    managers = defaultdict(list)
    for s in free(world.records["staff"]):
        if s["body"] in ("RC", "CF"):
            managers[s["body"]].append(s)
    out = []
    for n, p in enumerate(pick(rng, pays, 2)):
        if n == 0 or not managers[p["body"]]:
            account = world.party_named(donors[p["ref"]]).account
            note = f"拨付{p['ref']}打入捐赠人{donors[p['ref']]}的账户"
        else:
            m = rng.choice(managers[p["body"]])
            managers[p["body"]].remove(m)
            account = m["account"]
            touch(m)
            note = f"拨付{p['ref']}打入管理人员{m['person']}的账户"
        p["account"] = account
        for b in world.records["bank"]:
            if b.get("_ref") == p["ref"] and b.get("amount_out") == p["amount"]:
                b["counter_account"] = account
        touch(p)
        out.append(Planted("RELATED-BENEFICIARY", [p], note, amount_fen=p["amount"]))
    return out
