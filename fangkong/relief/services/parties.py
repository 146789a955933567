"""Relief writes: the catalogue of parties and items, one name for each however ledgers spell it."""

import re
from pathlib import Path

from django.db import transaction
from rapidfuzz import fuzz, process

from fangkong.audit.services import audit_record
from fangkong.relief.ledger import store
from fangkong.relief.models import (
    AuditProject,
    Grade,
    Item,
    ItemName,
    Party,
    PartyKind,
    PartyName,
    UnitConversion,
)

# --- The catalogue: one name for each party and item however ledgers spell it. ---

FUZZY_CUTOFF = 90
_KIND_BY_COLUMN = {"warehouse": PartyKind.WAREHOUSE}
_KIND_WORDS = [
    (("医院", "卫生院", "医疗中心", "保健院", "疾控", "卫生服务中心"), PartyKind.HOSPITAL),
    (("红十字会", "慈善", "基金会"), PartyKind.CHARITY),
    (("仓库", "储备库", "物资库"), PartyKind.WAREHOUSE),
    (
        ("财政局", "卫健委", "卫生健康委", "民政局", "政府", "指挥部", "审计局"),
        PartyKind.GOVERNMENT,
    ),
]


def guess_party_kind(name: str, column: str, kind: str) -> str:
    for words, party_kind in _KIND_WORDS:
        if any(w in name for w in words):
            return party_kind
    if column == "warehouse":
        return PartyKind.WAREHOUSE
    if column == "source" and kind in ("contract", "delivery"):
        return PartyKind.SUPPLIER
    if column == "source" and kind in ("cash_donation", "goods_donation", "disclosure"):
        return PartyKind.DONOR
    if 2 <= len(name) <= 4 and not re.search(r"[公司会局院委部心厂店]", name):
        return PartyKind.PERSON
    return PartyKind.OTHER


def guess_grade(name: str, standard: str = "") -> str:
    text = f"{name} {standard}".upper().replace(" ", "")
    if "GB2626" in text or "KN95" in text or "民用" in text:
        return Grade.CIVIL
    if "GB19083" in text or "医用防护" in text or "N95" in text:
        return Grade.MEDICAL_PROTECTIVE
    if "YY0469" in text or "外科" in text:
        return Grade.SURGICAL
    return Grade.OTHER


_PACK = re.compile(r"(\d+)\s*(只|个|片|套|副|瓶|支|件)\s*/\s*(盒|箱|包|袋|件|提)")


def catalogue_update(*, project: AuditProject, parquet: Path) -> dict[str, int]:
    """Add the names in a new ledger file to the catalogue (exact key, else a fuzzy match)."""
    con = store.connect()
    try:
        src = str(parquet).replace("'", "''")
        party_rows = con.execute(
            " UNION ALL ".join(
                f"SELECT DISTINCT {c} AS raw, {c}_key AS key, '{c}' AS col, kind FROM '{src}' WHERE {c}_key IS NOT NULL"  # noqa: S608
                for c in store.PARTY_COLUMNS
            )
        ).fetchall()
        item_rows = con.execute(
            f"SELECT item, item_key, any_value(standard), any_value(spec), list(DISTINCT uom) FROM '{src}' "  # noqa: S608
            "WHERE item_key IS NOT NULL GROUP BY item, item_key"
        ).fetchall()
        beds = con.execute(
            f"SELECT target_key, max(beds) FROM '{src}' WHERE beds IS NOT NULL AND target_key IS NOT NULL GROUP BY 1"  # noqa: S608
        ).fetchall()
    finally:
        con.close()
    known: dict[str, object] = dict(
        PartyName.objects.filter(project=project).values_list("key", "party_id")
    )
    new_parties: list[Party] = []
    new_names: list[tuple[str, str, object, int]] = []  # key, raw, party id or new Party, score
    for raw, key, col, kind in party_rows:
        if key in known:
            continue
        choice = (
            process.extractOne(key, list(known), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if known
            else None
        )
        if choice:
            new_names.append((key, raw, known[choice[0]], int(choice[1])))
            known[key] = known[choice[0]]
            continue
        party = Party(project=project, name=raw, kind=guess_party_kind(raw, col, kind))
        new_parties.append(party)
        new_names.append((key, raw, party, 100))
        known[key] = party
    Party.objects.bulk_create(new_parties, batch_size=500)
    PartyName.objects.bulk_create(
        [
            PartyName(
                project=project,
                key=key,
                raw=raw,
                score=score,
                confirmed=score == 100,
                **({"party": p} if isinstance(p, Party) else {"party_id": p}),
            )
            for key, raw, p, score in new_names
        ],
        batch_size=500,
    )
    known = {k: (v.pk if isinstance(v, Party) else v) for k, v in known.items()}
    added = len(new_parties)
    matched = len(new_names) - added
    for key, n in beds:
        if key in known:
            Party.objects.filter(pk=known[key], beds__isnull=True).update(
                beds=n, kind=PartyKind.HOSPITAL
            )
    item_known = dict(ItemName.objects.filter(project=project).values_list("key", "item_id"))
    for name, key, standard, spec, uoms in item_rows:
        item_id = item_known.get(key)
        if item_id is None:
            grade = guess_grade(name, standard or "")
            # The base unit: the piece unit the ledgers use for it (套 for suits, 瓶 for bottles).
            base = next((u for u in uoms or [] if u and u in store.PIECE_UNITS), "只")
            item = Item.objects.create(
                project=project,
                name=name,
                base_uom=base,
                standard=standard or "",
                grade=grade,
                priority=grade in (Grade.MEDICAL_PROTECTIVE, Grade.SURGICAL) or "防护服" in name,
            )
            ItemName.objects.create(project=project, item=item, key=key, raw=name)
            item_known[key] = item_id = item.pk
        if spec and (m := _PACK.search(spec)):
            UnitConversion.objects.get_or_create(
                item_id=item_id, uom=m.group(3), defaults={"factor": int(m.group(1))}
            )
    return {"parties": added, "matched": matched}


@transaction.atomic
def party_confirm(*, actor, name: PartyName) -> None:
    """The auditor agrees that this spelling is the same party."""
    name.confirmed = True
    name.save(update_fields=["confirmed"])
    audit_record(actor=actor, action="relief.party.confirm", obj=name.party, new={"name": name.raw})


@transaction.atomic
def party_split(*, actor, name: PartyName) -> Party:
    """The auditor says this spelling is a different party: it becomes its own entry."""
    old = name.party
    party = Party.objects.create(project=old.project, name=name.raw, kind=old.kind)
    name.party, name.confirmed, name.score = party, True, 100
    name.save(update_fields=["party", "confirmed", "score"])
    audit_record(
        actor=actor,
        action="relief.party.split",
        obj=party,
        old={"party": old.name},
        new={"name": name.raw},
    )
    return party


@transaction.atomic
def party_merge(*, actor, party: Party, into: Party) -> None:
    """Two catalogue entries are one party: move every spelling to `into`."""
    PartyName.objects.filter(party=party).update(party=into, confirmed=True)
    audit_record(actor=actor, action="relief.party.merge", obj=into, old={"party": party.name})
    party.delete()


@transaction.atomic
def party_update(*, actor, party: Party, **fields) -> Party:
    old = {k: getattr(party, k) for k in fields}
    for k, v in fields.items():
        setattr(party, k, v)
    party.full_clean()
    party.save()
    audit_record(actor=actor, action="relief.party.update", obj=party, old=old, new=fields)
    return party


@transaction.atomic
def item_update(*, actor, item: Item, conversions: dict[str, int] | None = None, **fields) -> Item:
    old = {k: getattr(item, k) for k in fields}
    for k, v in fields.items():
        setattr(item, k, v)
    item.full_clean()
    item.save()
    for uom, factor in (conversions or {}).items():
        if factor:
            UnitConversion.objects.update_or_create(
                item=item, uom=uom, defaults={"factor": int(factor)}
            )
        else:
            UnitConversion.objects.filter(item=item, uom=uom).delete()
    audit_record(
        actor=actor,
        action="relief.item.update",
        obj=item,
        old=old,
        new=fields | {"conversions": conversions},
    )
    return item
