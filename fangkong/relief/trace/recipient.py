"""One recipient backward: everything a party received, by donation."""

from datetime import date

from django.utils.translation import gettext as _

from fangkong.relief.trace.db import project_context, trace_db
from fangkong.relief.trace.donation import assess, directed_gaps, recipient_gaps, recipients_of
from fangkong.relief.trace.model import Gap, Recipient, RecipientTrace, Source
from fangkong.relief.trace.search import all_rows, group_by_ref

# --- One recipient backward. ---


def recipient_trace(project_id: int, party_id: int) -> RecipientTrace | None:
    """Everything a party received (goods allocated, issued, signed; money paid or appropriated),
    grouped by the donation it came from, with totals and gaps. None: no such party."""
    from fangkong.relief.models import Party

    party = Party.objects.filter(project_id=project_id, pk=party_id).values("id", "name").first()
    if party is None:
        return None
    with trace_db(project_id) as con:
        kinds, _last = project_context(con)
        rows, _counts = all_rows(
            con,
            """e.target_id = $2 AND (e.step IN ('allocated', 'issued', 'signed')
                OR e.kind IN ('payment', 'appropriation'))""",
            [party_id],
        )
    sources = []
    totals: dict[tuple, Recipient] = {}
    gaps: list[Gap] = []
    appropriated = 0
    for ref, rs in group_by_ref(rows).items():
        mine = [
            r
            for r in rs
            if r.target_id == party_id
            and (
                r.step in ("allocated", "issued", "signed")
                or r.kind in ("payment", "appropriation")
            )
        ]
        t = assess(project_id, ref, rs, kinds, None, [])
        lines = [x for x in recipients_of(mine, kinds) if x.party_id == party_id]
        own_gaps: list[Gap] = []
        recipient_gaps(lines, own_gaps)
        if t.directed_to:
            directed_gaps(mine, t.directed_to, t.directed_to_id, own_gaps)
        got = sum(r.amount or 0 for r in mine if r.kind == "appropriation")
        if got:
            appropriated += got
            lines.append(Recipient(party["name"], party_id, "money", paid=got))
        for x in lines:
            key = (x.measure, x.item)
            tot = totals.get(key)
            if tot is None:
                tot = totals[key] = Recipient(party["name"], party_id, x.measure, x.item, x.uom)
            for attr in ("allocated", "issued", "signed", "paid"):
                v = getattr(x, attr)
                if v is not None:
                    setattr(tot, attr, (getattr(tot, attr) or 0) + v)
            tot.unknown |= x.unknown
        gaps += own_gaps
        sources.append(
            Source(
                ref=ref,
                nature=t.nature,
                donor=t.donor,
                donor_id=t.donor_id,
                body=t.body,
                lines=lines,
                rows=mine,
                gaps=own_gaps,
                project_id=project_id,
            )
        )
    sources.sort(key=lambda s: (min((r.day for r in s.rows if r.day), default=date.max), s.ref))
    notes = []
    if not sources:
        notes.append(_("已导入的台账中没有发给该单位的款物。"))
    return RecipientTrace(
        project_id=project_id,
        party_id=party_id,
        name=party["name"],
        sources=sources,
        totals=sorted(totals.values(), key=lambda x: (x.measure != "goods", x.item)),
        appropriated=appropriated,
        gaps=gaps,
        notes=notes,
    )
