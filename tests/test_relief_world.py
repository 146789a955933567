"""The synthetic epidemic follows its rules: same seed same world, money and goods conserved."""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from fangkong.lib import idcard
from fangkong.relief.ledger import schema
from fangkong.relief.synthetic.world import generate

SEEDS = [2020, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def worlds():
    return {seed: generate(seed) for seed in SEEDS}


def test_same_seed_same_world():
    a, b = generate(7), generate(7)
    assert a.flows == b.flows and a.parties == b.parties
    assert a.records == b.records and a.persons == b.persons
    assert generate(8).flows != a.flows


@pytest.mark.parametrize("seed", SEEDS)
def test_every_ledger_kind_has_rows(worlds, seed):
    w = worlds[seed]
    assert {k for k, rows in w.records.items() if rows} == set(schema.KINDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_money_in_equals_money_out_plus_balances(worlds, seed):
    w = worlds[seed]
    received = sum(f.amount_fen for f in w.flows if f.kind in ("donate_cash", "appropriate"))
    balances = w.money_balance()
    final = sum(
        v for k, v in balances.items() if w.parties[k].kind in ("hospital", "supplier", "person")
    )
    held_by_intermediaries = sum(
        v for k, v in balances.items() if w.parties[k].kind in ("charity",)
    )
    # Hospitals pass appropriations on to suppliers and staff: each yuan counts at its last holder.
    assert received == final + held_by_intermediaries
    assert all(v >= 0 for v in balances.values())
    # Appropriations are spent in full: what a hospital holds is donated money.
    for h in (p.code for p in w.parties.values() if p.kind == "hospital"):
        donated = sum(f.amount_fen for f in w.of_kind("pay") if f.target == h)
        spent = sum(f.amount_fen for f in w.of_kind("pay") if f.source == h)
        granted = sum(f.amount_fen for f in w.of_kind("appropriate") if f.target == h)
        assert granted == spent and balances.get(h, 0) == donated - spent + granted


@pytest.mark.parametrize("seed", SEEDS)
def test_ledger_records_agree_with_the_money_flows(worlds, seed):
    w = worlds[seed]

    def total(kind, **match):
        return sum(r["amount"] for r in w.records[kind] if all(r[k] == v for k, v in match.items()))

    for charity in ("RC", "CF"):
        name = w.parties[charity].name
        donated = sum(f.amount_fen for f in w.of_kind("donate_cash") if f.target == charity)
        paid = sum(f.amount_fen for f in w.of_kind("pay") if f.source == charity)
        assert total("cash_donation", body=charity) == donated
        assert total("payment", source=name) == paid
        # The bank statement: a credit per donation, a debit per payout, a running balance.
        rows = w.ledger("bank", charity)
        assert sum(r["amount_in"] or 0 for r in rows) == donated
        assert sum(r["amount_out"] or 0 for r in rows) == paid
        balance = 0
        for r in rows:
            balance += (r["amount_in"] or 0) - (r["amount_out"] or 0)
            assert r["balance"] == balance >= 0
        assert balance == w.money_balance()[charity]
        booked = {r["ref"]: r for r in w.ledger("cash_donation", charity)}
        for r in rows:
            if r["amount_in"]:
                d = booked.pop(r["_ref"])
                assert r["counterparty"] == d["source"] and r["amount_in"] == d["amount"]
                assert d["day"] <= r["day"] <= d["day"] + timedelta(days=2)
        assert not booked  # every donation credited once
    assert total("appropriation") == sum(f.amount_fen for f in w.of_kind("appropriate"))
    assert total("subsidy") == sum(
        f.amount_fen for f in w.of_kind("pay") if w.parties[f.target].kind == "person"
    )
    # Treasury payments spend each appropriation for goods exactly.
    for a in w.records["appropriation"]:
        if a["ref"].startswith("CZ"):
            assert total("payment", body="FIN", ref=a["ref"]) == a["amount"]


@pytest.mark.parametrize("seed", SEEDS)
def test_goods_in_equal_goods_issued_plus_stock(worlds, seed):
    w = worlds[seed]
    stocked = defaultdict(int)
    for f in w.of_kind("stock_in"):
        stocked[f.item] += f.quantity
    issued = defaultdict(int)
    for f in w.of_kind("issue"):
        issued[f.item] += f.quantity
    left = defaultdict(int)
    for (warehouse, item), qty in w.stock().items():
        assert qty >= 0, (warehouse, item)
        left[item] += qty
    for item in stocked:
        assert stocked[item] == issued[item] + left[item]
    # Every issue is signed for in the same quantity and lot.
    assert sorted((f.ref, f.target, f.quantity, f.lot) for f in w.of_kind("issue")) == sorted(
        (f.ref, f.target, f.quantity, f.lot) for f in w.of_kind("receive")
    )
    assert Counter(
        (r["ref"], r["item"], r["quantity"], r["lot"]) for r in w.records["receipt"]
    ) == (
        Counter(
            (r["ref"], r["item"], r["quantity"], r["lot"])
            for r in w.records["stock"]
            if r["direction"] == "出库"
        )
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_stock_count_equals_the_book(worlds, seed):
    w = worlds[seed]
    by_lot = w.stock_by_lot()
    assert all(q >= 0 for q in by_lot.values())
    # The book as the warehouse ledgers state it: in minus out per warehouse, item and lot.
    book = defaultdict(int)
    for r in w.records["stock"]:
        book[(r["body"], r["item"], r["lot"])] += (r.get("qty_in") or 0) - (r.get("qty_out") or 0)
    counted = {(r["body"], r["item"], r["lot"]): r["counted_qty"] for r in w.records["stock_count"]}
    assert all(r["book_qty"] == r["counted_qty"] > 0 for r in w.records["stock_count"])
    assert counted == {k: v for k, v in book.items() if v}
    assert counted == {(wh, w.items[i].name, lot): q for (wh, i, lot), q in by_lot.items() if q}
    assert all(r["day"] == w.end for r in w.records["stock_count"])


@pytest.mark.parametrize("seed", SEEDS)
def test_procurement(worlds, seed):
    w = worlds[seed]
    delivered = defaultdict(int)
    for r in w.records["delivery"]:
        delivered[r["ref"]] += r["quantity"]
    stocked = defaultdict(int)
    for r in w.records["stock"]:
        if r["direction"] == "入库" and r["ref"].startswith("HT"):
            stocked[r["ref"]] += r["quantity"]
    for c in w.records["contract"]:
        assert c["amount"] == c["quantity"] * c["unit_price"]
        assert c["method"] in ("公开招标", "竞争性谈判", "单一来源")
        assert bool(c["justification"]) == (c["method"] == "单一来源")
        assert delivered[c["doc_no"]] == stocked[c["doc_no"]] == c["quantity"]
        assert all(r["day"] > c["day"] for r in w.records["delivery"] if r["ref"] == c["doc_no"])
    for p in w.ledger("payment", "FIN"):
        assert p["invoice_no"] and p["account"] and p["economic_code"].startswith("30218")


@pytest.mark.parametrize("seed", SEEDS)
def test_staff_rosters_and_subsidies(worlds, seed):
    w = worlds[seed]
    ids = [p.id_number for p in w.persons.values()]
    assert len(set(ids)) == len(ids) and all(idcard.is_valid(n) for n in ids)
    by_id = {p.id_number: p for p in w.persons.values()}
    on_roster = Counter((r["id_number"], r["day"].month) for r in w.records["roster"])
    paid = Counter()
    for s in w.records["subsidy"]:
        person = by_id[s["id_number"]]
        assert s["rate"] == {"一类": 30_000, "二类": 20_000}[s["tier"]] == person.rate_fen
        assert s["amount"] == s["days"] * s["rate"]
        assert s["source"] == w.parties[person.hospital].name
        paid[(s["id_number"], int(s["_ref"][4:6]))] += s["days"]  # BZyymmHn
    assert paid == on_roster  # every day on duty paid once, in its month


@pytest.mark.parametrize("seed", SEEDS)
def test_disclosures_list_every_donation_within_a_week(worlds, seed):
    w = worlds[seed]
    donations = {r["ref"]: r for k in ("cash_donation", "goods_donation") for r in w.records[k]}
    disclosed = Counter(r["ref"] for r in w.records["disclosure"])
    assert set(disclosed) == set(donations) and set(disclosed.values()) == {1}
    for r in w.records["disclosure"]:
        d = donations[r["ref"]]
        assert r["body"] == d["body"] and r["source"] == d["source"]
        assert (r["amount"], r["quantity"]) == (
            (d["amount"], None) if "warehouse" not in d else (None, d["quantity"])
        )
        assert d["day"] <= r["day"] <= min(w.end, d["day"] + timedelta(days=7))


def test_requests_follow_beds():
    w = generate(2020, scale=2)
    per_bed = defaultdict(list)
    for r in w.records["request"]:
        per_bed[r["item"]].append(r["quantity"] / r["beds"])
    for item, ratios in per_bed.items():
        mean = sum(ratios) / len(ratios)
        assert all(mean / 3 < x < mean * 3 for x in ratios), item


def test_directed_donations_reach_their_receiver_and_priority_items_designated_hospitals():
    w = generate(2020)
    for f in w.of_kind("pay"):
        if f.directed_to:
            assert f.target == f.directed_to
    for f in w.of_kind("issue"):
        if w.items[f.item].priority:
            assert w.parties[f.target].designated
        if f.directed_to:
            assert f.target == f.directed_to


def test_a_donation_can_be_traced():
    w = generate(2020)
    refs = w.refs()
    goods = next(r["ref"] for r in w.records["goods_donation"] if r["ref"] in refs)
    steps = [f.kind for f in w.trace(goods)]
    assert steps[:2] == ["donate_goods", "stock_in"] and "issue" in steps
    trail = [(step, kind) for step, kind, _r in w.steps(goods)]
    assert trail[:2] == [("booked", "goods_donation"), ("stored", "stock")]
    assert {s for s, _k in trail} >= {"allocated", "issued", "signed", "disclosed"}
    cash = next(r["ref"] for r in w.ledger("payment", "RC"))
    assert {(s, k) for s, k, _r in w.steps(cash)} == {
        ("booked", "cash_donation"),
        ("received", "bank"),
        ("paid", "payment"),
        ("paid", "bank"),
        ("disclosed", "disclosure"),
    }
    contract = w.records["contract"][0]["doc_no"]
    assert [f.kind for f in w.trace(contract)][:3] == ["contract", "deliver", "stock_in"]
    assert [k for _s, k, _r in w.steps(contract)][:3] == ["contract", "delivery", "stock"]


def test_scale_multiplies_the_rows():
    one = sum(len(v) for v in generate(2020).records.values())
    three = sum(len(v) for v in generate(2020, scale=3).records.values())
    assert 2.6 < three / one < 3.4
