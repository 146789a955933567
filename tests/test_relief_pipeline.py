"""The synthetic world through the real importer: every file recognised, every row accepted,
the catalogue built, and totals equal to the generator's."""

from fangkong.relief import store
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
    assert booked == sum(f.amount_fen for f in truth.of_kind("donate_cash"))
    assert stored == sum(f.quantity for f in truth.of_kind("stock_in"))
    assert unmapped == 0
    # Every party the world names in these ledgers is one catalogue entry, spelt once.
    assert (
        Party.objects.filter(project=rw.project).count()
        == PartyName.objects.filter(project=rw.project).values("party").distinct().count()
    )
