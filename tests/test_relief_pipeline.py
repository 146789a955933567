"""The synthetic world through the real importer: every file recognised, every row accepted,
the catalogue built, and totals equal to the generator's."""

from fangkong.relief.ledger import store
from fangkong.relief.models import Party, PartyName


def test_world_imports_and_totals_match(relief_world):
    rw = relief_world
    truth = rw.truth
    with store.project_db(rw.project.pk) as con:
        booked = con.execute(
            "SELECT sum(amount) FROM entries WHERE kind = 'cash_donation'"
        ).fetchone()[0]
        stored = con.execute(
            "SELECT sum(pieces) FROM entries WHERE kind = 'stock' AND step = 'stored'"
        ).fetchone()[0]
        unmapped = con.execute(
            "SELECT count(*) FROM entries WHERE source_key IS NOT NULL AND source_id IS NULL"
        ).fetchone()[0]
        # Packs (盒/箱) convert to pieces through the catalogue (learnt from 规格 "20只/盒").
        unconverted = con.execute(
            "SELECT count(*) FROM entries WHERE quantity IS NOT NULL AND pieces IS NULL"
        ).fetchone()[0]
        assert unconverted == 0
    assert booked == sum(f.amount_fen for f in truth.of_kind("donate_cash"))
    assert stored == sum(f.quantity for f in truth.of_kind("stock_in"))
    assert unmapped == 0
    # Every party the world names in these ledgers is one catalogue entry, spelt once.
    assert (
        Party.objects.filter(project=rw.project).count()
        == PartyName.objects.filter(project=rw.project).values("party").distinct().count()
    )


def test_every_written_record_is_found_at_its_cell(relief_world, tmp_path):
    """`_at` (file, sheet, row) of each generated record is where the importer stored it."""
    from fangkong.relief.synthetic.ledgers import write_all

    rw = relief_world
    write_all(rw.truth, tmp_path / "again")  # same seed, same files: sets each record's `_at`
    files = {f.name: f.pk for f in rw.project.files.all()}
    with store.project_db(rw.project.pk) as con:
        stored = {
            (r[0], r[1], r[2]): (r[3], r[4])
            for r in con.execute(
                "SELECT file_id, sheet, row_no, doc_no, amount FROM raw_entries"
            ).fetchall()
        }
    checked = 0
    for kind, records in rw.truth.records.items():
        for rec in records:
            name, sheet, row = rec["_at"]
            doc_no, amount = stored[(files[name], sheet, row)]
            if rec.get("doc_no"):
                assert doc_no == rec["doc_no"], (kind, rec["_at"])
            if amount is not None and rec.get("amount") is not None and kind != "bank":
                assert amount == rec["amount"], (kind, rec["_at"])
            checked += 1
    assert checked == len(stored)
