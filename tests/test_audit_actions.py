"""The audit action registry (fangkong/audit/actions.py): every action written is declared there,
once, with a label; the audit page's filter offers exactly those."""

import ast

import pytest

from fangkong.audit import actions
from fangkong.audit.actions import AuditAction
from fangkong.audit.models import AuditEvent
from fangkong.audit.services import audit_record
from tests.source import calls, modules

# The one relief call site that still builds its action at run time (f"relief.finding.{status}"):
# h7's re-layout of relief moves the finding writes; the lead deletes this entry when merging.
# Every value it can produce is declared (relief.finding.open/confirmed/dismissed).
RELIEF_BUILT_ACTIONS: set = set()


def _module_dicts(tree: ast.Module) -> dict[str, ast.Dict]:
    """Module-level NAME = {…} assignments (tables from a kind to its action)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _declared(node: ast.AST, tables: dict[str, ast.Dict], params: dict[str, str]) -> bool:
    """Whether the expression passed as `action` is a declared action, read off the source."""
    if isinstance(node, ast.Constant):
        return node.value in AuditAction.values
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "AuditAction" and node.attr in AuditAction.__members__
    if isinstance(node, ast.IfExp):
        return _declared(node.body, tables, params) and _declared(node.orelse, tables, params)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        table = tables.get(node.value.id)
        return table is not None and all(_declared(v, tables, params) for v in table.values)
    if isinstance(node, ast.Name):
        return params.get(node.id) == "AuditAction"
    return False


def _annotated(functions) -> dict[str, str]:
    params = {}
    for f in functions:
        for a in [*f.args.args, *f.args.kwonlyargs]:
            if a.annotation is not None:
                params[a.arg] = ast.unparse(a.annotation)
    return params


def test_every_call_site_names_a_declared_action():
    undeclared = []
    seen = 0
    for m in modules().values():
        if m.name in ("fangkong.audit.services", "fangkong.audit.actions"):
            continue
        tables = _module_dicts(m.tree)
        for call, enclosing in calls(m.tree, {"audit_record", "audit_record_many"}):
            action = next((k.value for k in call.keywords if k.arg == "action"), None)
            seen += 1
            if action is None or _declared(action, tables, _annotated(enclosing)):
                continue
            where = (m.rel, enclosing[-1].name if enclosing else "")
            if where not in RELIEF_BUILT_ACTIONS:
                undeclared.append((*where, ast.unparse(action)))
    assert seen > 70, "the scan found too few audit calls: is it still finding them?"
    assert undeclared == []


def test_the_scan_tells_declared_from_built_actions():
    tree = ast.parse(
        "T = {'a': AuditAction.UNIT_CREATE}\n"
        "def f(kind, action: AuditAction):\n"
        "    audit_record(action='unit.create')\n"
        "    audit_record(action=AuditAction.UNIT_UPDATE if kind else 'report.correct')\n"
        "    audit_record(action=T[kind])\n"
        "    audit_record(action=action)\n"
        "    audit_record(action=f'report.{kind}')\n"
        "    audit_record(action='made.up')\n"
        "    audit_record(action=AuditAction.MADE_UP)\n"
        "    audit_record(action=kind)\n"
    )
    tables = _module_dicts(tree)
    verdicts = [
        _declared(next(k.value for k in c.keywords), tables, _annotated(enclosing))
        for c, enclosing in calls(tree, {"audit_record"})
    ]
    assert verdicts == [True, True, True, True, False, False, False, False]


def test_an_undeclared_action_is_refused(world):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError) as exc:
        audit_record(actor=world.users["admin"], action="unit.made_up")
    assert str(exc.value) == actions.ERR_UNREGISTERED.format(code="unit.made_up")
    assert AuditEvent.objects.count() == before
    event = audit_record(actor=world.users["admin"], action=AuditAction.UNIT_UPDATE)
    assert AuditEvent.objects.get(pk=event.pk).action == "unit.update"


def test_each_action_is_declared_once_with_a_label():
    codes = AuditAction.values
    assert len(codes) == len(set(codes))
    labels = [str(label) for label in AuditAction.labels]
    assert all(labels) and len(labels) == len(set(labels))
    assert all(code.islower() and "." in code for code in codes)
    assert actions.label("unit.create") == "新建单位"
    assert actions.label("long.gone") == "long.gone"  # a stored code no longer declared


def test_the_audit_page_filter_offers_every_action(world, client_for):
    body = client_for("admin").get("/audit/").content.decode()
    for code, label in AuditAction.choices:
        assert f'<option value="{code}">{label}（{code}）</option>' in body


LOOKUPS = {"filter", "get", "exclude"}


def test_the_tests_look_for_declared_actions_only():
    """A test that waits for an event under a misspelt code would pass for the wrong reason."""
    from tests.source import ROOT

    found, undeclared = 0, []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            # Lookups only: a test may store an old, undeclared code on purpose (a legacy row).
            if node.func.attr not in LOOKUPS:
                continue
            if not ast.unparse(node.func.value).startswith("AuditEvent.objects"):
                continue
            for k in node.keywords:
                values = []
                if k.arg == "action" and isinstance(k.value, ast.Constant):
                    values = [k.value.value]
                elif k.arg == "action__in" and isinstance(k.value, ast.List | ast.Tuple | ast.Set):
                    values = [e.value for e in k.value.elts if isinstance(e, ast.Constant)]
                found += len(values)
                undeclared += [(path.name, v) for v in values if v not in AuditAction.values]
    assert found > 20, "the scan found too few lookups: is it still finding them?"
    assert undeclared == []
