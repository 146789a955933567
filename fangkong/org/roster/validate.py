"""Roster files, validated: the rows compared with a snapshot of the database loaded in a fixed
number of bulk queries (`Snapshot`), so a file of any length costs the same handful of queries; the
result is a `Plan` that services.roster_import_apply carries out (nothing here writes)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fangkong.lib import crypto
from fangkong.lib.masking import mask_id_number, mask_mobile
from fangkong.org import selectors
from fangkong.org.models import (
    FamilyMember,
    Gender,
    OrgUnit,
    Person,
    PoliticalStatus,
    Rank,
    UnitLevel,
    ancestor_ids,
)
from fangkong.org.roster.read import (
    _CHUNK,
    ERR_CYCLE,
    ERR_DATE_ORDER,
    ERR_FAMILY_DUPLICATE,
    ERR_FAMILY_PERSON_KEY,
    ERR_FAMILY_PERSON_UNKNOWN,
    ERR_ID_DUPLICATE_IN_FILE,
    ERR_ID_MASKED_MISMATCH,
    ERR_ID_MASKED_UNKNOWN,
    ERR_ID_REQUIRED,
    ERR_ID_TAKEN,
    ERR_LEVEL_REQUIRED,
    ERR_LEVEL_UNKNOWN,
    ERR_MOBILE_MASKED,
    ERR_NAME_AMBIGUOUS,
    ERR_NO_HEADERS,
    ERR_NO_ROWS,
    ERR_PARENT_UNKNOWN,
    ERR_PERSON_DUPLICATE_IN_FILE,
    ERR_RANK_UNKNOWN,
    ERR_ROOT_NOT_ALLOWED,
    ERR_STAFF_NUMBER_DUPLICATE_IN_FILE,
    ERR_STAFF_NUMBER_TAKEN,
    ERR_TOO_MANY_ROWS,
    ERR_TWO_RESPONSIBLES,
    ERR_UNIT_CODE_DUPLICATE_IN_FILE,
    ERR_UNIT_NAME_AMBIGUOUS,
    ERR_UNIT_NAME_REQUIRED,
    ERR_UNIT_OUT_OF_SCOPE,
    ERR_UNIT_UNKNOWN,
    FAMILY,
    KINDS,
    MAX_ERRORS,
    MAX_ROWS,
    PEOPLE,
    UNITS,
    Masked,
    PersonKey,
    Problem,
    Problems,
    RosterFileError,
    Row,
    Table,
    _Bad,
    find_tables,
    parse_rows,
    read_sheets,
)

# --- The database snapshot. ---


def _chunks(items: Iterable, size: int = _CHUNK):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _lookup_key(text: str) -> str:
    return text.strip().lower()


class Snapshot:
    """What validation needs from the database, loaded in bulk (a fixed number of queries)."""

    def __init__(self, user):
        self.user = user
        levels, ranks = list(UnitLevel.objects.all()), list(Rank.objects.all())
        self.levels: dict[str, UnitLevel] = {}
        for level in levels:
            self.levels.setdefault(_lookup_key(level.name), level)
            self.levels.setdefault(_lookup_key(level.code), level)
        self.level_names = "、".join(lv.name for lv in levels)
        self.ranks: dict[str, Rank] = {}
        for rank in ranks:
            self.ranks.setdefault(_lookup_key(rank.name), rank)
            self.ranks.setdefault(_lookup_key(rank.code), rank)
        self.rank_names = "、".join(r.name for r in ranks)
        self.by_code: dict[str, OrgUnit] = {}
        self.by_id: dict[int, OrgUnit] = {}
        self.scope_by_name: dict[str, list[OrgUnit]] = defaultdict(list)
        self.people_by_hash: dict[str, Person] = {}
        self.people_by_unit_name: dict[tuple[str, str], list[Person]] = defaultdict(list)
        self.family_names: dict[int, set[str]] = defaultdict(set)
        self.first_responsible: dict[int, int | None] = {}  # unit id → person id
        self.liaisons: dict[int, set[int]] = defaultdict(set)  # unit id → person ids
        self.roles_of: dict[int, set[int]] = defaultdict(set)  # person id → unit ids
        self.holder_unit: dict[int, int] = {}  # person id → unit id, for role holders

    def can(self, unit: OrgUnit) -> bool:
        return selectors.can(self.user, selectors.CAP_ROSTER_MANAGE, unit)

    def may_create_roots(self) -> bool:
        return selectors.has_global(self.user, selectors.CAP_ROSTER_MANAGE)

    def parent_code(self, unit: OrgUnit) -> str | None:
        parent = self.by_id.get(unit.parent_id) if unit.parent_id else None
        return parent.code if parent else None

    def _add_units(self, units: Iterable[OrgUnit]) -> None:
        units = [u for u in units if u.pk not in self.by_id]
        for u in units:
            self.by_code[u.code] = u
            self.by_id[u.pk] = u
        missing = {a for u in units for a in ancestor_ids(u.path)} - self.by_id.keys()
        for chunk in _chunks(missing):
            for u in OrgUnit.objects.filter(pk__in=chunk):
                self.by_code[u.code] = u
                self.by_id[u.pk] = u

    def load_units(self, refs: set[str]) -> None:
        """Units named by code anywhere, and units in scope named by their exact name."""
        for chunk in _chunks(refs):
            self._add_units(OrgUnit.objects.filter(code__in=chunk))
        scoped = selectors.units_for(self.user, selectors.CAP_ROSTER_MANAGE)
        for chunk in _chunks(refs):
            found = list(scoped.filter(name__in=chunk))
            self._add_units(found)
            for u in found:
                self.scope_by_name[u.name].append(self.by_id[u.pk])

    def load_people(self, hashes: set[str], unit_names: set[tuple[str, str]]) -> None:
        for chunk in _chunks(hashes):
            for p in Person.objects.filter(id_number_hash__in=chunk).select_related("unit"):
                self.people_by_hash[p.id_number_hash] = p
        codes = {c for c, _ in unit_names if c in self.by_code}
        names = {n for c, n in unit_names if c in codes}
        unit_ids = [self.by_code[c].pk for c in codes]
        for ids in _chunks(unit_ids):
            for names_chunk in _chunks(names):
                qs = Person.objects.filter(unit_id__in=ids, name__in=names_chunk)
                for p in qs.select_related("unit").order_by("id"):
                    self.people_by_unit_name[(p.unit.code, p.name)].append(p)
        self._add_units(
            [p.unit for p in self.people_by_hash.values()]
            + [p.unit for ps in self.people_by_unit_name.values() for p in ps]
        )

    def load_family(self, person_ids: set[int]) -> None:
        for chunk in _chunks(person_ids):
            for pid, name in FamilyMember.objects.filter(person_id__in=chunk).values_list(
                "person_id", "name"
            ):
                self.family_names[pid].add(name)

    def load_roles(self, unit_ids: set[int], person_ids: set[int]) -> None:
        """First responsible persons and liaisons of these units, and every role these people hold."""
        through = OrgUnit.liaisons.through
        unit_ids = set(unit_ids)
        for chunk in _chunks(person_ids):
            for uid, pid in OrgUnit.objects.filter(first_responsible_id__in=chunk).values_list(
                "id", "first_responsible_id"
            ):
                self.roles_of[pid].add(uid)
                unit_ids.add(uid)
            for uid, pid in through.objects.filter(person_id__in=chunk).values_list(
                "orgunit_id", "person_id"
            ):
                self.roles_of[pid].add(uid)
                unit_ids.add(uid)
        holders: set[int] = set()
        for chunk in _chunks(unit_ids):
            for uid, pid in OrgUnit.objects.filter(pk__in=chunk).values_list(
                "id", "first_responsible_id"
            ):
                self.first_responsible[uid] = pid
                if pid:
                    holders.add(pid)
            for uid, pid in through.objects.filter(orgunit_id__in=chunk).values_list(
                "orgunit_id", "person_id"
            ):
                self.liaisons[uid].add(pid)
                holders.add(pid)
        missing_units = set(unit_ids)
        for chunk in _chunks(holders):
            for pid, uid in Person.objects.filter(pk__in=chunk).values_list("id", "unit_id"):
                self.holder_unit[pid] = uid
                missing_units.add(uid)
        missing_units -= self.by_id.keys()
        for chunk in _chunks(missing_units):
            self._add_units(OrgUnit.objects.filter(pk__in=chunk))


# --- The plan. ---


@dataclass
class UnitOp:
    code: str
    existing_id: int | None
    parent_code: str | None
    move: bool
    fields: dict  # create: every field; update: only those that change


@dataclass
class PersonOp:
    key: PersonKey
    existing_id: int | None
    unit_code: str
    move: bool
    fields: dict
    id_number: str | None = None


@dataclass
class ResponsiblesOp:
    unit_code: str
    first_responsible: PersonKey | None
    liaisons: list[PersonKey]


@dataclass
class FamilyOp:
    person: PersonKey
    name: str
    relation: str
    lives_with: bool
    birth_year: int | None


@dataclass
class Plan:
    units: list[UnitOp] = field(default_factory=list)
    people: list[PersonOp] = field(default_factory=list)
    responsibles: list[ResponsiblesOp] = field(default_factory=list)
    family: list[FamilyOp] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


COUNT_KEYS = (
    "units_new",
    "units_updated",
    "units_unchanged",
    "people_new",
    "people_updated",
    "people_unchanged",
    "family_new",
    "family_unchanged",
    "responsibles_updated",
)


# --- Validation. ---


def _no_marks() -> dict[str, Any]:
    return {"fr_yes": None, "fr_no": set(), "li_yes": [], "li_no": set()}


class _Validator:
    """Checks parsed rows against the snapshot and builds the plan; every problem is recorded."""

    def __init__(self, user, tables: list[Table], problems: Problems):
        self.user = user
        self.problems = problems
        self.rows: dict[str, list[Row]] = {kind: [] for kind in KINDS}
        for table in tables:
            self.rows[table.kind].extend(parse_rows(table, problems))
        self.plan = Plan(counts=dict.fromkeys(COUNT_KEYS, 0))
        self.file_units: dict[str, Row] = {}
        self.final_parent: dict[str, str | None] = {}
        self.person_rows: dict[PersonKey, Row] = {}
        self._covered: dict[str, bool] = {}

    def run(self) -> Plan:
        self.snap = Snapshot(self.user)
        refs = {r.values[f] for r in self.rows[UNITS] for f in ("code", "parent") if f in r.values}
        refs |= {r.values["unit"] for r in self.rows[PEOPLE] if "unit" in r.values}
        refs |= {r.values["person_unit"] for r in self.rows[FAMILY] if "person_unit" in r.values}
        self.snap.load_units(refs)
        self.check_units()
        self.check_people()
        self.check_responsibles()
        self.check_family()
        return self.plan

    # The final tree: units in the file placed as the file says, all others as they are now.

    def parent_of(self, code: str) -> str | None:
        if code in self.final_parent:
            return self.final_parent[code]
        unit = self.snap.by_code.get(code)
        return self.snap.parent_code(unit) if unit else None

    def chain(self, code: str) -> list[str]:
        """The unit and its ancestors in the final tree, stopping before a repeat."""
        seen = [code]
        parent = self.parent_of(code)
        while parent is not None and parent not in seen:
            seen.append(parent)
            parent = self.parent_of(parent)
        return seen

    def within(self, code: str, ancestor: str) -> bool:
        return ancestor in self.chain(code)

    def covered(self, code: str) -> bool:
        """The unit will lie in the user's scope: an existing unit they hold, or a new one under one."""
        if code in self._covered:
            return self._covered[code]
        self._covered[code] = False  # a cycle of new units is never covered
        existing = self.snap.by_code.get(code)
        if existing is not None:
            result = self.snap.can(existing)
        elif code in self.file_units:
            parent = self.final_parent.get(code)
            result = self.snap.may_create_roots() if parent is None else self.covered(parent)
        else:
            result = False
        self._covered[code] = result
        return result

    def final_name(self, code: str) -> str | None:
        row = self.file_units.get(code)
        if row is not None and "name" in row.values:
            return row.values["name"]
        unit = self.snap.by_code.get(code)
        return unit.name if unit else None

    def resolve_unit(self, ref: str, current: OrgUnit | None = None) -> str | None:
        """A unit code from a code or an exact name; names match only units the user may manage."""
        if ref in self.file_units or ref in self.snap.by_code:
            return ref
        candidates = {c for c, r in self.file_units.items() if r.values.get("name") == ref}
        candidates |= {u.code for u in self.snap.scope_by_name.get(ref, ())}
        if current is not None and current.name == ref:
            candidates.add(current.code)  # the present parent, even when outside the scope
        candidates = {c for c in candidates if self.final_name(c) == ref}
        if len(candidates) > 1:
            raise _Bad(ERR_UNIT_NAME_AMBIGUOUS)
        return candidates.pop() if candidates else None

    # Units.

    def check_units(self) -> None:
        snap = self.snap
        for row in self.rows[UNITS]:
            code = row.values.get("code")
            if code is None:
                continue
            if code in self.file_units:
                first = self.file_units[code].row
                row.bad(self.problems, "code", ERR_UNIT_CODE_DUPLICATE_IN_FILE, row=first)
                continue
            self.file_units[code] = row
        # Settle every parent first, so that the later checks see the whole final tree.
        for code, row in self.file_units.items():
            existing = snap.by_code.get(code)
            self.final_parent[code] = snap.parent_code(existing) if existing else None
            if existing is not None and not snap.can(existing):
                row.bad(self.problems, "code", ERR_UNIT_OUT_OF_SCOPE)
                continue
            ref = row.values.get("parent")
            if ref is None:
                continue
            current = snap.by_id.get(existing.parent_id) if existing else None
            try:
                parent = self.resolve_unit(ref, current)
            except _Bad as bad:
                row.bad(self.problems, "parent", bad.msgid, **bad.params)
                continue
            if parent is None:
                row.bad(self.problems, "parent", ERR_PARENT_UNKNOWN)
            else:
                self.final_parent[code] = parent
        for code, row in self.file_units.items():
            if row.ok:
                self._check_unit(code, row)
        for code in sorted(self.file_units, key=lambda c: len(self.chain(c))):
            if self.file_units[code].ok:
                self._plan_unit(code, self.file_units[code])

    def _check_unit(self, code: str, row: Row) -> None:
        snap, v = self.snap, row.values
        existing = snap.by_code.get(code)
        parent = self.final_parent[code]
        moved = existing is None or parent != snap.parent_code(existing)
        if parent is not None and code in self.chain(parent):
            names = [self.final_name(c) or c for c in self.chain(code)]
            row.bad(self.problems, "parent", ERR_CYCLE, chain=" → ".join([*names, names[0]]))
        elif moved and parent is None and not snap.may_create_roots():
            row.bad(self.problems, "parent", ERR_ROOT_NOT_ALLOWED)
        elif moved and parent is not None and not self.covered(parent):
            row.bad(self.problems, "parent", ERR_PARENT_UNKNOWN)
        if "level" in v:
            row.level = snap.levels.get(_lookup_key(v["level"]))
            if row.level is None:
                row.bad(self.problems, "level", ERR_LEVEL_UNKNOWN, choices=snap.level_names)
        elif existing is None:
            row.bad(self.problems, "level", ERR_LEVEL_REQUIRED, choices=snap.level_names)
        if existing is None and "name" not in v and "name" not in row.failed:
            row.bad(self.problems, "name", ERR_UNIT_NAME_REQUIRED)
        opened = v.get("opened_on", existing.opened_on if existing else None)
        closed = v.get("closed_on", existing.closed_on if existing else None)
        if opened and closed and closed <= opened:
            column = "closed_on" if "closed_on" in v else "opened_on"
            row.bad(self.problems, column, ERR_DATE_ORDER)

    def _plan_unit(self, code: str, row: Row) -> None:
        v = row.values
        existing = self.snap.by_code.get(code)
        parent = self.final_parent[code]
        if existing is None:
            fields = {
                "name": v["name"],
                "short_name": v.get("short_name", ""),
                "level": row.level,
                "opened_on": v.get("opened_on"),
                "closed_on": v.get("closed_on"),
            }
            self.plan.units.append(UnitOp(code, None, parent, True, fields))
            self.plan.counts["units_new"] += 1
            return
        fields = {
            k: v[k]
            for k in ("name", "short_name", "opened_on", "closed_on")
            if k in v and v[k] != getattr(existing, k)
        }
        if row.level is not None and row.level.pk != existing.level_id:
            fields["level"] = row.level
        move = parent != self.snap.parent_code(existing)
        if fields or move:
            self.plan.units.append(UnitOp(code, existing.pk, parent, move, fields))
            self.plan.counts["units_updated"] += 1
        else:
            self.plan.counts["units_unchanged"] += 1

    # People.

    def check_people(self) -> None:
        snap = self.snap
        rows = self.rows[PEOPLE]
        for row in rows:
            ref = row.values.get("unit")
            if ref is None:
                continue
            try:
                code = self.resolve_unit(ref)
            except _Bad as bad:
                row.bad(self.problems, "unit", bad.msgid, **bad.params)
                continue
            # Out of scope reads exactly like "does not exist", so nothing leaks.
            if code is None or not self.covered(code):
                row.bad(self.problems, "unit", ERR_UNIT_UNKNOWN)
            else:
                row.unit_code = code
        hashes: dict[str, str] = {}
        for row, f in [(r, "id_number") for r in rows] + [
            (r, "person_id_number") for r in self.rows[FAMILY]
        ]:
            number = row.values.get(f)
            if number and not isinstance(number, Masked):
                if number not in hashes:
                    hashes[number] = crypto.keyed_hash(number)
                row.id_hash = hashes[number]
        pairs = {
            (r.unit_code, r.values["name"]) for r in rows if r.unit_code and "name" in r.values
        }
        for row in self.rows[FAMILY]:
            ref, name = row.values.get("person_unit"), row.values.get("person_name")
            if ref and name:
                try:
                    row.unit_code = self.resolve_unit(ref)
                except _Bad:
                    row.unit_code = None
                if row.unit_code:
                    pairs.add((row.unit_code, name))
        snap.load_people(set(hashes.values()), pairs)
        seen_hash: dict[str, Row] = {}
        for row in rows:
            self._match_person(row, seen_hash)
        self._check_staff_numbers(rows)
        snap.load_family(
            {p.pk for p in snap.people_by_hash.values()}
            | {p.pk for ps in snap.people_by_unit_name.values() for p in ps}
        )
        for row in rows:
            if row.ok and row.key is not None:
                self._plan_person(row)

    def _check_staff_numbers(self, rows: list[Row]) -> None:
        """A staff number (工号) belongs to one person: not two rows, not someone else on file."""
        numbers = {r.values["staff_number"] for r in rows if r.ok and r.values.get("staff_number")}
        holders: dict[str, int] = {}
        for chunk in _chunks(numbers):
            holders.update(
                Person.objects.filter(staff_number__in=chunk).values_list("staff_number", "pk")
            )
        seen: dict[str, Row] = {}
        for row in rows:
            number = row.values.get("staff_number")
            if not row.ok or not number:
                continue
            if number in seen:
                row.bad(
                    self.problems,
                    "staff_number",
                    ERR_STAFF_NUMBER_DUPLICATE_IN_FILE,
                    row=seen[number].row,
                )
                continue
            seen[number] = row
            holder = holders.get(number)
            if holder is not None and holder != (row.existing.pk if row.existing else None):
                row.bad(self.problems, "staff_number", ERR_STAFF_NUMBER_TAKEN)

    def _match_person(self, row: Row, seen_hash: dict[str, Row]) -> None:
        """Find the existing person a row describes: by ID number, else by unit and name."""
        snap, v = self.snap, row.values
        if "id_number" in row.failed:
            return
        number = v.get("id_number")
        existing = None
        if row.id_hash is not None:
            if row.id_hash in seen_hash:
                first = seen_hash[row.id_hash].row
                row.bad(self.problems, "id_number", ERR_ID_DUPLICATE_IN_FILE, row=first)
                return
            seen_hash[row.id_hash] = row
            existing = snap.people_by_hash.get(row.id_hash)
            if existing is not None and not snap.can(existing.unit):
                row.bad(self.problems, "id_number", ERR_ID_TAKEN)
                return
            if existing is None and row.unit_code and "name" in v:
                # Someone entered earlier without an ID number: this row supplies it.
                blanks = [
                    p
                    for p in snap.people_by_unit_name.get((row.unit_code, v["name"]), [])
                    if not p.id_number_hash
                ]
                existing = blanks[0] if len(blanks) == 1 else None
        elif row.unit_code and "name" in v:
            found = snap.people_by_unit_name.get((row.unit_code, v["name"]), [])
            if len(found) > 1:
                row.bad(self.problems, "id_number", ERR_NAME_AMBIGUOUS)
                return
            if not found:
                masked = isinstance(number, Masked)
                row.bad(
                    self.problems, "id_number", ERR_ID_MASKED_UNKNOWN if masked else ERR_ID_REQUIRED
                )
                return
            existing = found[0]
            if isinstance(number, Masked) and number != existing.id_number_masked:
                row.bad(self.problems, "id_number", ERR_ID_MASKED_MISMATCH)
                return
        else:
            return
        if existing is not None:
            key: PersonKey = ("db", existing.pk)
            if key in self.person_rows:
                first = self.person_rows[key].row
                row.bad(self.problems, "name", ERR_PERSON_DUPLICATE_IN_FILE, row=first)
                return
        else:
            key = ("new", -row.row)  # numbered properly once planned
        row.existing, row.key = existing, key
        self.person_rows[key] = row

    def _plan_person(self, row: Row) -> None:
        v = row.values
        existing: Person | None = row.existing
        rank = None
        if "rank" in v:
            rank = self.snap.ranks.get(_lookup_key(v["rank"]))
            if rank is None:
                row.bad(self.problems, "rank", ERR_RANK_UNKNOWN, choices=self.snap.rank_names)
        mobile = v.get("mobile")
        if isinstance(mobile, Masked):
            # An exported (masked) number means "keep the number on file".
            if existing is None or mask_mobile(existing.mobile) != mobile:
                row.bad(self.problems, "mobile", ERR_MOBILE_MASKED)
            mobile = None
        if not row.ok:
            return
        number = v.get("id_number")
        full_number = number if number and not isinstance(number, Masked) else None
        if existing is None:
            gender = v.get("gender")
            if gender is None and full_number:
                gender = Gender.MALE if int(full_number[16]) % 2 else Gender.FEMALE
            fields = {
                "name": v["name"],
                "post": v.get("post", ""),
                "rank": rank,
                "mobile": mobile or "",
                "staff_number": v.get("staff_number", ""),
                "gender": gender or "",
                "political_status": v.get("political_status", PoliticalStatus.MASSES),
                "active_from": v.get("active_from"),
                "left_on": v.get("left_on"),
            }
            del self.person_rows[row.key]
            row.key = ("new", len(self.plan.people))
            self.person_rows[row.key] = row
            op = PersonOp(row.key, None, row.unit_code, True, fields, full_number)
            self.plan.people.append(op)
            self.plan.counts["people_new"] += 1
            return
        wanted = {
            "name": v.get("name"),
            "post": v.get("post"),
            "mobile": mobile,
            "staff_number": v.get("staff_number"),
            "gender": v.get("gender"),
            "political_status": v.get("political_status"),
            "active_from": v.get("active_from"),
            "left_on": v.get("left_on"),
        }
        fields = {
            k: val for k, val in wanted.items() if val is not None and val != getattr(existing, k)
        }
        if rank is not None and rank.pk != existing.rank_id:
            fields["rank"] = rank
        move = row.unit_code != existing.unit.code
        new_number = full_number if full_number and not existing.id_number_hash else None
        if fields or move or new_number:
            op = PersonOp(row.key, existing.pk, row.unit_code, move, fields, new_number)
            self.plan.people.append(op)
            self.plan.counts["people_updated"] += 1
        else:
            self.plan.counts["people_unchanged"] += 1

    # First responsible persons (第一责任人) and liaisons (联络员).

    def final_unit_of(self, key: PersonKey) -> str | None:
        row = self.person_rows.get(key)
        if row is not None:
            return row.unit_code
        unit = self.snap.by_id.get(self.snap.holder_unit.get(key[1], 0))
        return unit.code if unit else None

    def _inside(self, key: PersonKey, code: str) -> bool:
        unit_code = self.final_unit_of(key)
        return unit_code is not None and self.within(unit_code, code)

    def check_responsibles(self) -> None:
        """是/否 marks change only the people named; whoever moves out of a unit loses its roles."""
        snap = self.snap
        marks: dict[str, dict[str, Any]] = defaultdict(_no_marks)
        for row in self.rows[PEOPLE]:
            if not row.ok or row.key is None:
                continue
            fr, li = row.values.get("is_first_responsible"), row.values.get("is_liaison")
            if fr is None and li is None:
                continue
            m = marks[row.unit_code]
            if fr is True and m["fr_yes"] is not None:
                first = m["fr_yes"].row
                row.bad(self.problems, "is_first_responsible", ERR_TWO_RESPONSIBLES, row=first)
                continue
            if fr is True:
                m["fr_yes"] = row
            elif fr is False:
                m["fr_no"].add(row.key)
            if li is True:
                m["li_yes"].append(row.key)
            elif li is False:
                m["li_no"].add(row.key)
        moving = {
            r.existing.pk
            for r in self.rows[PEOPLE]
            if r.ok and r.existing is not None and r.unit_code != r.existing.unit.code
        }
        snap.load_roles({snap.by_code[c].pk for c in marks if c in snap.by_code}, moving)
        affected = set(marks) | {
            snap.by_id[u].code for pid in moving for u in snap.roles_of[pid] if u in snap.by_id
        }
        for code in sorted(affected):
            unit = snap.by_code.get(code)
            current_fr: PersonKey | None = None
            current_li: set[PersonKey] = set()
            if unit is not None:
                fr_id = snap.first_responsible.get(unit.pk)
                current_fr = ("db", fr_id) if fr_id else None
                current_li = {("db", pid) for pid in snap.liaisons.get(unit.pk, ())}
            m = marks.get(code) or _no_marks()
            fr = current_fr
            if m["fr_yes"] is not None:
                fr = m["fr_yes"].key
            elif current_fr in m["fr_no"]:
                fr = None
            liaisons = [k for k in sorted(current_li) if k not in m["li_no"]]
            liaisons += [k for k in m["li_yes"] if k not in liaisons]
            if fr is not None and not self._inside(fr, code):
                fr = None
            liaisons = [k for k in liaisons if self._inside(k, code)]
            if fr != current_fr or set(liaisons) != current_li:
                self.plan.responsibles.append(ResponsiblesOp(code, fr, liaisons))
                self.plan.counts["responsibles_updated"] += 1

    # Family members.

    def check_family(self) -> None:
        by_hash = {r.id_hash: r.key for r in self.rows[PEOPLE] if r.ok and r.key and r.id_hash}
        by_unit_name: dict[tuple[str, str], list[PersonKey]] = defaultdict(list)
        for r in self.rows[PEOPLE]:
            if r.ok and r.key is not None:
                by_unit_name[(r.unit_code, r.values["name"])].append(r.key)
        seen: dict[tuple[PersonKey, str], Row] = {}
        for row in self.rows[FAMILY]:
            if "person_id_number" in row.failed:
                continue
            key = self._family_person(row, by_hash, by_unit_name)
            if key is None or not row.ok:
                continue
            v = row.values
            if (key, v["name"]) in seen:
                first = seen[(key, v["name"])].row
                row.bad(self.problems, "name", ERR_FAMILY_DUPLICATE, row=first)
                continue
            seen[(key, v["name"])] = row
            if key[0] == "db" and v["name"] in self.snap.family_names.get(key[1], ()):
                self.plan.counts["family_unchanged"] += 1
                continue
            self.plan.family.append(
                FamilyOp(
                    key, v["name"], v["relation"], v.get("lives_with", True), v.get("birth_year")
                )
            )
            self.plan.counts["family_new"] += 1

    def _family_person(self, row: Row, by_hash, by_unit_name) -> PersonKey | None:
        """The staff member a family row belongs to: by full ID, else by unit and staff name."""
        snap, v = self.snap, row.values
        if row.id_hash is not None:
            key = by_hash.get(row.id_hash)
            if key is None:
                person = snap.people_by_hash.get(row.id_hash)
                if person is not None and snap.can(person.unit):
                    key = ("db", person.pk)
            if key is None:
                row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_UNKNOWN)
            return key
        name = v.get("person_name")
        if not name or "person_unit" not in v:
            row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_KEY)
            return None
        code = row.unit_code
        in_db = []
        if code and self.covered(code):
            in_db = snap.people_by_unit_name.get((code, name), [])
        candidates = set(by_unit_name.get((code, name), [])) | {("db", p.pk) for p in in_db}
        number = v.get("person_id_number")
        if isinstance(number, Masked):
            candidates = {k for k in candidates if self._masked_id_of(k, in_db) in (None, number)}
        if len(candidates) != 1:
            row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_UNKNOWN)
            return None
        return candidates.pop()

    def _masked_id_of(self, key: PersonKey, in_db: list[Person]) -> str | None:
        if key[0] == "db":
            for p in in_db:
                if p.pk == key[1]:
                    return p.id_number_masked
        row = self.person_rows.get(key)
        number = row.values.get("id_number") if row else None
        if number and not isinstance(number, Masked):
            return mask_id_number(number)
        return None


# --- Analysis: the one entry point used by services. ---


@dataclass
class Analysis:
    plan: Plan | None
    problems: list[Problem]
    sheets: list[dict]
    skipped: list[str]

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.problems

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.plan.counts) if self.plan else dict.fromkeys(COUNT_KEYS, 0)

    def summary(self) -> dict:
        # Listed sheet by sheet and row by row, the order in which the user will fix them.
        order = {s["name"]: i for i, s in enumerate(self.sheets)}
        problems = sorted(self.problems, key=lambda p: (order.get(p.sheet, -1), p.row or 0))
        return {
            "counts": self.counts,
            "errors": [p.as_json() for p in problems[:MAX_ERRORS]],
            "error_count": len(self.problems),
            "sheets": self.sheets,
            "skipped_sheets": self.skipped,
        }


def analyse(data: bytes, *, user) -> Analysis:
    """Read, check and plan a roster file for `user`; nothing is written."""
    problems = Problems()
    try:
        sheets = read_sheets(data)
    except RosterFileError as exc:
        return Analysis(None, [exc.problem], [], [])
    tables, skipped = find_tables(sheets, problems)
    if not tables:
        return Analysis(None, [Problem("", None, "", ERR_NO_HEADERS)], [], skipped)
    total = sum(len(t.rows) for t in tables)
    if total == 0 and not problems:
        return Analysis(None, [Problem("", None, "", ERR_NO_ROWS)], [], skipped)
    if total > MAX_ROWS:
        return Analysis(
            None, [Problem("", None, "", ERR_TOO_MANY_ROWS, {"limit": MAX_ROWS})], [], skipped
        )
    described = [{"name": t.sheet, "kind": t.kind, "rows": len(t.rows)} for t in tables]
    if problems:  # a missing column makes row checks meaningless
        return Analysis(None, problems.items, described, skipped)
    plan = _Validator(user, tables, problems).run()
    return Analysis(plan, problems.items, described, skipped)
