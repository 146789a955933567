"""The trace follows the synthetic world through its imported ledgers and agrees with the truth.

The clean world conserves everything, so every donation's rows per step equal the generator's
records, the balances equal the World's numbers, and no gap is reported. A world with broken
ledgers (an issue row removed, a signature short, a directed donation paid elsewhere, a late
disclosure) shows each break in words with the right difference. Query counts do not depend on
the amount of data.

Building and importing a world costs seconds, so the worlds are built once per module inside a
transaction that is rolled back at the end.
"""

import re
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.lib.money import yuan
from fangkong.relief import services, trace
from fangkong.relief.ledger import store
from fangkong.relief.ledger.parsing import halfwidth
from fangkong.relief.models import Item, Party
from fangkong.relief.synthetic import ledgers
from fangkong.relief.synthetic.world import World, generate
from tests.relief_fixtures import ReliefWorld, build_relief_world, import_folder
from tests.world import build_world

# The world's ledger kinds whose rows the trace follows (rosters and requests are no steps).
TRACED = {
    "appropriation",
    "payment",
    "bank",
    "cash_donation",
    "goods_donation",
    "stock",
    "allocation",
    "receipt",
    "contract",
    "delivery",
    "subsidy",
    "disclosure",
}
MONEY = {"appropriation", "payment", "bank", "cash_donation", "subsidy"}


def set_conversions(rw: ReliefWorld) -> None:
    """What an auditor does on the items page: how many pieces a 盒/箱 of each item holds."""
    for item in Item.objects.filter(project=rw.project):
        known = next(
            i for i in rw.truth.items.values() if halfwidth(i.name) == halfwidth(item.name)
        )
        services.item_update(
            actor=rw.users["auditor"], item=item, conversions={known.pack_unit: known.per_pack}
        )


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker, tmp_path_factory):
    """The clean world (`clean`) and a world whose ledgers were broken by hand (`broken`)."""
    tmp = tmp_path_factory.mktemp("trace")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp / "media")):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            clean = build_relief_world(build_world(), tmp / "clean")
            set_conversions(clean)
            broken, breaks = build_broken_world(clean, tmp / "broken")
            yield {"clean": clean, "broken": broken, "breaks": breaks}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def clean(worlds, db):
    return worlds["clean"]


@pytest.fixture
def broken(worlds, db):
    return worlds["broken"], worlds["breaks"]


# --- Truth helpers. ---


def value(kind: str, record: dict) -> int:
    """Fen for money rows, pieces for goods rows, as the generator wrote them."""
    if kind == "bank":
        return record.get("amount_in") or record.get("amount_out")
    if kind in MONEY or (kind == "disclosure" and not record.get("item")):
        return record["amount"]
    return record["quantity"]


def row_value(r: trace.Row) -> int:
    return r.amount if r.measure == "money" else r.pieces


def expected_steps(truth: World, ref: str, kinds: set[str]) -> Counter:
    return Counter(
        (step, kind, r["day"], value(kind, r))
        for step, kind, r in truth.steps(ref)
        if kind in kinds and kind in TRACED
    )


def traced_steps(t: trace.DonationTrace) -> Counter:
    return Counter((r.step, r.kind, r.day, row_value(r)) for r in t.rows)


def imported_kinds(rw: ReliefWorld) -> set[str]:
    with store.project_db(rw.project.pk) as con:
        return {k for (k,) in con.execute("SELECT DISTINCT kind FROM raw_entries").fetchall()}


def name(truth: World, code: str) -> str:
    return halfwidth(truth.parties[code].name)


def chosen(truth: World) -> dict[str, str]:
    """A cash donation, a directed cash donation and a goods donation split among hospitals."""
    cash = next(
        f.ref
        for f in truth.of_kind("donate_cash")
        if not f.directed_to and any(g.kind == "pay" for g in truth.trace(f.ref))
    )
    directed = next(
        f.ref
        for f in truth.of_kind("donate_cash")
        if f.directed_to and any(g.kind == "pay" for g in truth.trace(f.ref))
    )
    split = next(
        f.ref
        for f in truth.of_kind("donate_goods")
        if len({g.target for g in truth.trace(f.ref) if g.kind == "issue"}) >= 3
    )
    return {"cash": cash, "directed": directed, "split": split}


# --- The clean world. ---


def test_every_donation_traced_equals_the_truth_and_nothing_is_amiss(clean):
    truth = clean.truth
    kinds = imported_kinds(clean)
    assert {"cash_donation", "stock"} <= kinds
    traces = {t.ref: t for t in trace.donation_traces(clean.project.pk)}
    expected = {
        ref for ref, steps in truth.refs().items() if any(k in kinds for _s, k, _r in steps)
    }
    assert set(traces) == expected
    for ref, t in traces.items():
        assert traced_steps(t) == expected_steps(truth, ref, kinds), ref
        assert not t.gaps, (ref, [g.text for g in t.gaps])
        assert all(line.ok for line in t.lines), ref
    # Bank rows carry no ref: every statement row was still linked to its donation or payment.
    if "bank" in kinds:
        bank = sum(1 for t in traces.values() for r in t.rows if r.kind == "bank")
        assert bank == len(truth.records["bank"])


def test_chosen_donations_step_by_step(clean):
    truth, pid = clean.truth, clean.project.pk
    refs = chosen(truth)
    flow_step = {
        "donate_cash": "booked",
        "donate_goods": "booked",
        "stock_in": "stored",
        "allocate": "allocated",
        "issue": "issued",
        "receive": "signed",
        "pay": "paid",
    }
    kind_of = {
        "booked": ("cash_donation", "goods_donation"),
        "stored": ("stock",),
        "allocated": ("allocation",),
        "issued": ("stock",),
        "signed": ("receipt",),
        "paid": ("payment",),
    }
    for label, ref in refs.items():
        t = trace.donation_trace(pid, ref)
        assert t is not None, ref
        for f in truth.trace(ref):
            step = flow_step[f.kind]
            rows = [
                r for r in t.rows if r.step == step and r.kind in kind_of[step] and r.day == f.day
            ]
            qty = f.amount_fen if f.kind in ("donate_cash", "pay") else f.quantity
            assert any(row_value(r) == qty for r in rows), (label, ref, f)
        # Recipients: what each hospital got, per the truth's flows.
        got = defaultdict(int)
        for f in truth.trace(ref):
            if f.kind in ("issue", "pay"):
                got[name(truth, f.target)] += f.quantity or f.amount_fen
        lines = {
            halfwidth(x.name): x.issued if x.measure == "goods" else x.paid for x in t.recipients
        }
        assert lines == dict(got), label
        assert not t.gaps
    donor = truth.trace(refs["directed"])[0]
    t = trace.donation_trace(pid, refs["directed"])
    assert halfwidth(t.directed_to) == name(truth, donor.directed_to)
    assert halfwidth(t.donor) == name(truth, donor.source)
    split = trace.donation_trace(pid, refs["split"])
    assert len({x.name for x in split.recipients}) >= 3
    assert all(x.allocated == x.issued == x.signed for x in split.recipients)
    stored = next(s for s in split.steps if s.code == "stored")
    assert sum(stored.pieces.values()) == sum(
        f.quantity for f in truth.trace(refs["split"]) if f.kind == "stock_in"
    )


def test_balances_equal_the_worlds_numbers(clean):
    truth, pid = clean.truth, clean.project.pk
    b = trace.balances(pid)
    received = sum(f.amount_fen for f in truth.flows if f.kind in ("donate_cash", "appropriate"))
    assert b.money_in == received
    assert b.money_overspent == 0
    assert b.money_in == b.money_to_payees + b.money_subsidies + b.money_held
    held = truth.money_balance()
    by_name = {halfwidth(h.name): h for h in [*b.holders, *b.payees]}
    for code, fen in held.items():
        party = truth.parties[code]
        if party.kind == "person":
            continue  # subsidies: one line per payer, people are not catalogue parties
        h = by_name[halfwidth(party.name)]
        assert (h.held if h.is_holder else h.transfers_in) == fen, party.name
    for h in b.holders:
        if h.bank_in is not None:
            assert h.bank_diff == 0, h.name
            assert h.bank_closing == h.held, h.name
    stock = truth.stock()
    stored = defaultdict(int)
    for f in truth.of_kind("stock_in"):
        stored[(name(truth, f.target), halfwidth(truth.items[f.item].name))] += f.quantity
    lines = {(halfwidth(g.warehouse), halfwidth(g.item)): g for g in b.goods}
    assert set(lines) == set(stored)
    for (warehouse, item), g in lines.items():
        code = next(c for c, p in truth.parties.items() if halfwidth(p.name) == warehouse)
        item_code = next(i.code for i in truth.items.values() if halfwidth(i.name) == item)
        assert g.stored == stored[(warehouse, item)]
        assert g.stored == g.issued + g.book_stock
        assert g.book_stock == stock[(code, item_code)]
        assert g.ok and g.checkable
        if g.counted is not None:
            assert g.counted == g.book_stock


def test_reverse_trace_of_a_hospital_equals_the_truth(clean):
    truth, pid = clean.truth, clean.project.pk
    code = "H2"
    party = Party.objects.get(project=clean.project, name=truth.parties[code].name)
    r = trace.recipient_trace(pid, party.pk)
    want = defaultdict(lambda: defaultdict(int))
    for f in truth.flows:
        if f.target != code:
            continue
        if f.kind in ("allocate", "issue", "receive"):
            want[halfwidth(truth.items[f.item].name)][f.kind] += f.quantity
        elif f.kind in ("pay", "appropriate"):
            want[""]["money"] += f.amount_fen
    got = {}
    for x in r.totals:
        if x.measure == "goods":
            got[halfwidth(x.item)] = {
                "allocate": x.allocated,
                "issue": x.issued,
                "receive": x.signed,
            }
        else:
            got[""] = {"money": x.paid}
    assert got == {k: dict(v) for k, v in want.items()}
    assert not r.gaps
    refs = {
        f.ref for f in truth.flows if f.target == code and f.kind in ("issue", "pay", "appropriate")
    }
    assert {s.ref for s in r.sources} == refs
    # Every source leads back to its donor.
    first = {f.ref: f for f in truth.flows if f.kind in ("donate_goods", "donate_cash")}
    for s in r.sources:
        if s.ref in first:
            assert halfwidth(s.donor) == name(truth, first[s.ref].source)
    assert trace.recipient_trace(pid, 10**9) is None


def test_sankey_flows_add_up(clean):
    truth, pid = clean.truth, clean.project.pk
    money = trace.sankey(pid)
    goods = trace.sankey(pid, measure="goods")
    assert money.measure == "money" and goods.measure == "goods"
    assert set(money.measures) == {"money", "goods"}

    def sources(chart):
        targets = {link["target"] for link in chart.links}
        return sum(link["value"] for link in chart.links if link["source"] not in targets)

    received = sum(f.amount_fen for f in truth.flows if f.kind in ("donate_cash", "appropriate"))
    assert sources(money) == received
    assert sources(goods) == sum(f.quantity for f in truth.of_kind("stock_in"))
    assert len({n["name"] for n in money.nodes}) == len(money.nodes) <= 3 * trace.DEFAULT_TOP + 1
    assert any(n["name"] == "其他来源" for n in money.nodes)
    ref = chosen(truth)["split"]
    one = trace.sankey(pid, ref)
    issued = defaultdict(int)
    for f in truth.trace(ref):
        if f.kind == "issue":
            issued[name(truth, f.target)] += f.quantity
    warehouse = name(truth, next(f.target for f in truth.trace(ref) if f.kind == "stock_in"))
    out = {
        halfwidth(link["target"]): link["value"]
        for link in one.links
        if halfwidth(link["source"]) == warehouse and link["target"] != "在库"
    }
    assert out == dict(issued)
    assert trace.sankey(pid, "NO-SUCH-REF") is None


def test_search_by_ref_donor_and_recipient(clean):
    truth, pid = clean.truth, clean.project.pk
    ref = chosen(truth)["split"]
    found, n = trace.find_donations(pid, ref.lower())
    assert found[0].ref == ref and found[0].matched_on == "编号"
    donor = name(truth, truth.trace(ref)[0].source)
    found, n = trace.find_donations(pid, donor, limit=500)
    assert ref in {s.ref for s in found}
    assert all(s.matched_on for s in found)
    found, n = trace.find_donations(pid, "黄冈市中医医院", limit=1000)
    assert n == len(found) > 10
    assert trace.find_donations(pid, "没有这个单位")[1] == 0
    everything, total = trace.find_donations(pid, "", limit=20, offset=20)
    assert len(everything) == 20 and total == len(trace.donation_traces(pid))
    assert trace.find_donations(pid, "", gaps_only=True)[1] == 0
    # A decision's document number leads to the donation it belongs to.
    decision = next(r for r in trace.donation_trace(pid, ref).rows if r.kind == "allocation")
    assert trace.donation_trace(pid, decision.doc_no).ref == ref


def test_a_ledger_row_shows_its_source_and_masks_id_numbers(clean):
    truth, pid = clean.truth, clean.project.pk
    ref = chosen(truth)["split"]
    t = trace.donation_trace(pid, ref)
    issued = next(r for r in t.rows if r.step == "issued")
    lr = trace.row_page(pid, issued.row_id)
    assert lr.row.row_no == issued.row_no and lr.row.sheet == issued.sheet
    assert lr.file_name == issued.file_name and re.fullmatch(r"[0-9a-f]{64}", lr.sha256)
    assert {r.row_id for r in lr.siblings} == {r.row_id for r in t.rows} - {issued.row_id}
    assert ("关联编号", ref) in lr.fields
    # A subsidy row: the ID number only masked; linked to its appropriation though it has no ref.
    with store.project_db(pid) as con:
        (row_id,) = con.execute(
            "SELECT row_id FROM entries WHERE kind = 'subsidy' ORDER BY row_id LIMIT 1"
        ).fetchone()
    lr = trace.row_page(pid, row_id)
    shown = " ".join(v for _label, v in lr.fields)
    assert not any(p.id_number in shown for p in truth.persons.values())
    assert re.search(r"\d{3}\*{8,}[\dX]{4}", shown)
    assert lr.row.ref and lr.row.ref.startswith("BZ") and lr.row.matched == "batch"
    # A roster row is no step of any donation; it still shows, its ID number masked.
    with store.project_db(pid) as con:
        (row_id,) = con.execute(
            "SELECT row_id FROM entries WHERE kind = 'roster' ORDER BY row_id LIMIT 1"
        ).fetchone()
    lr = trace.row_page(pid, row_id)
    shown = " ".join(v for _label, v in lr.fields)
    assert lr.row.kind == "roster" and lr.siblings == [] and "身份证号" in dict(lr.fields)
    assert not any(p.id_number in shown for p in truth.persons.values())
    assert trace.row_page(pid, 1) is None


def test_pages_show_the_trace(clean):
    truth, pid = clean.truth, clean.project.pk
    client = Client()
    client.force_login(clean.users["auditor2"])
    ref = chosen(truth)["split"]
    r = client.get(reverse("relief:trace_index", args=[pid]), {"q": ref})
    assert r.status_code == 302 and r.url == trace.donation_url(pid, ref)
    r = client.get(r.url)
    body = r.content.decode()
    assert "各环节的数量和金额相符" in body and 'id="sankey-data"' in body
    r = client.get(reverse("relief:sankey_data", args=[pid, "_all"]), {"measure": "goods"})
    assert r.json()["measure"] == "goods" and r.json()["links"]
    r = client.get(reverse("relief:trace_donation", args=[pid, "JZ-NOPE"]))
    assert r.status_code == 404 and "没有找到这笔款物" in r.content.decode()
    row = trace.donation_trace(pid, ref).rows[0]
    r = client.get(reverse("relief:row", args=[pid, row.row_id]))
    body = r.content.decode()
    assert f"第{row.row_no}行" in body and row.file_name in body
    assert reverse("relief:file_download", args=[pid, row.file_id]) in body


def test_refs_with_a_slash_survive_the_url():
    ref = "黄财社〔2020〕1号/补%"
    assert trace.ref_from_arg(trace.ref_arg(ref)) == ref
    url = trace.donation_url(1, ref)
    assert "/trace/donation/" in url and url.count("/") == 7


# --- A world with broken ledgers. ---


def build_broken_world(clean: ReliefWorld, tmp: Path) -> tuple[ReliefWorld, dict]:
    """A new project over the same world with four ledgers broken before import."""
    truth = generate(2020)
    refs = chosen(truth)
    records = truth.records
    breaks = {}
    # 1. One hospital's issue of the split donation is missing from the warehouse ledger.
    issue = next(
        r for r in records["stock"] if r.get("ref") == refs["split"] and r["direction"] == "出库"
    )
    records["stock"].remove(issue)
    breaks["missing_issue"] = (refs["split"], issue["target"], issue["quantity"])
    # 2. A hospital signed for 100 pieces fewer than were issued to it.
    goods = next(
        f.ref
        for f in truth.of_kind("donate_goods")
        if f.ref != refs["split"] and any(g.kind == "receive" for g in truth.trace(f.ref))
    )
    receipt = next(r for r in records["receipt"] if r.get("ref") == goods)
    receipt["quantity"] -= 100
    breaks["short_signed"] = (goods, receipt["target"], receipt["quantity"] + 100)
    # 3. The directed donation was paid to another hospital.
    payment = next(r for r in records["payment"] if r.get("ref") == refs["directed"])
    other = next(
        p.name
        for p in truth.parties.values()
        if p.kind == "hospital" and p.name != payment["target"]
    )
    breaks["directed"] = (refs["directed"], payment["directed_to"], other, payment["amount"])
    payment["target"] = other
    # 4. The cash donation was disclosed 20 days after it was booked.
    booked = next(r for r in records["cash_donation"] if r["ref"] == refs["cash"])
    disclosure = next(r for r in records["disclosure"] if r.get("ref") == refs["cash"])
    disclosure["day"] = booked["day"] + timedelta(days=20)
    breaks["late"] = (refs["cash"],)
    # Only the ledgers these donations run through (fewer files import faster).
    wanted = {"cash_donation", "goods_donation", "stock", "stock_count", "allocation"}
    wanted |= {"receipt", "payment", "disclosure"}
    folder = tmp / "ledgers"
    folder.mkdir(parents=True)
    for ledger in ledgers.plan(truth):
        if ledger.kind in wanted:
            ledgers.write(truth, ledger, folder)
    auditor = clean.users["auditor"]
    project = services.project_create(
        actor=auditor,
        name="破损台账",
        period_start=truth.flows[0].day,
        period_end=truth.flows[-1].day,
    )
    rw = ReliefWorld(project=project, truth=truth, users=clean.users)
    rw.imports = import_folder(auditor, project, folder)
    set_conversions(rw)
    return rw, breaks


def test_broken_ledgers_show_their_gaps_in_words(broken):
    rw, breaks = broken
    pid = rw.project.pk

    ref, hospital, qty = breaks["missing_issue"]
    t = trace.donation_trace(pid, ref)
    rec = next(x for x in t.recipients if halfwidth(x.name) == halfwidth(hospital))
    assert (rec.allocated, rec.issued, rec.signed) == (qty, 0, qty)
    texts = [g.text for g in t.gaps]
    assert any(
        g.code == "allocated" and g.diff == -qty and f"出库0只，分配决定为{qty:,}只" in g.text
        for g in t.gaps
    ), texts
    assert any(g.code == "signed" and g.diff == qty for g in t.gaps), texts
    assert any(g.code == "count" for g in t.gaps), texts  # the book now exceeds the stock count
    assert all(g.rows for g in t.gaps if g.code in ("allocated", "signed"))

    ref, hospital, issued = breaks["short_signed"]
    t = trace.donation_trace(pid, ref)
    gap = next(g for g in t.gaps if g.code == "signed")
    assert gap.diff == -100
    assert f"签收{issued - 100:,}" in gap.text and f"出库{issued:,}" in gap.text
    assert (
        gap.text.endswith("相差100只。")
        or gap.text.endswith("相差100瓶。")
        or "相差100" in gap.text
    )

    ref, directed, other, amount = breaks["directed"]
    t = trace.donation_trace(pid, ref)
    gap = next(g for g in t.gaps if g.code == "directed")
    assert directed in gap.text and other in gap.text and gap.diff == amount
    assert yuan(amount) in gap.text

    (ref,) = breaks["late"]
    t = trace.donation_trace(pid, ref)
    gap = next(g for g in t.gaps if g.code == "late")
    assert "「公示」" in gap.text and "晚20天" in gap.text

    # The list flags exactly these donations; the balances show the warehouse's surplus.
    flagged = {s.ref for s in trace.find_donations(pid, "", gaps_only=True, limit=1000)[0]}
    assert flagged == {breaks[k][0] for k in breaks}
    b = trace.balances(pid)
    assert any(g.count_diff == -breaks["missing_issue"][2] for g in b.goods)
    # The page says it in words, in red.
    client = Client()
    client.force_login(rw.users["auditor"])
    body = client.get(trace.donation_url(pid, breaks["short_signed"][0])).content.decode()
    assert "gap-box bad" in body and "相差100" in body


def test_query_counts_do_not_grow_with_the_data(clean, broken, monkeypatch):
    """Same DuckDB statements and ORM queries for a small and a large project, few and many rows."""
    small, _breaks = broken
    executed = []
    real = store.project_db

    class Counting:
        def __init__(self, con):
            self.con = con

        def execute(self, *args):
            executed.append(args[0])
            return self.con.execute(*args)

        def __getattr__(self, attr):
            return getattr(self.con, attr)

    from contextlib import contextmanager

    @contextmanager
    def counting(project_id, **kw):
        with real(project_id, **kw) as con:
            yield Counting(con)

    monkeypatch.setattr(store, "project_db", counting)

    def cost(call) -> tuple[int, int]:
        executed.clear()
        with CaptureQueriesContext(connection) as orm:
            call()
        return len(executed), len(orm.captured_queries)

    big, little = clean.project.pk, small.project.pk
    refs = chosen(clean.truth)
    party = Party.objects.get(project=clean.project, name=clean.truth.parties["H1"].name).pk
    small_party = Party.objects.get(project=small.project, name=clean.truth.parties["H1"].name).pk
    calls = {
        "trace": (
            lambda: trace.donation_trace(big, refs["split"]),
            lambda: trace.donation_trace(little, refs["cash"]),
        ),
        "find": (lambda: trace.find_donations(big, ""), lambda: trace.find_donations(little, "")),
        "balances": (lambda: trace.balances(big), lambda: trace.balances(little)),
        "sankey": (lambda: trace.sankey(big), lambda: trace.sankey(little)),
        "recipient": (
            lambda: trace.recipient_trace(big, party),
            lambda: trace.recipient_trace(little, small_party),
        ),
    }
    for label, (large, few) in calls.items():
        a, b = cost(large), cost(few)
        assert a == b, (label, a, b)
        assert a[0] <= 12 and a[1] <= 6, (label, a)
