"""Relief scope cases (projects, imports, catalogue): see tests/test_relief_scope.py."""

from tests.relief_case import Case, u

NAME = "黄冈市疫情防控资金物资跟踪审计"


def project(rw):
    return rw.project.pk


def imp(rw):
    return rw.imports[0].pk


def file(rw):
    return rw.files["红十字会捐赠资金登记表.xlsx"].pk


def party(rw):
    return rw.project.parties.order_by("id").first().pk


def item(rw):
    return rw.project.items.order_by("id").first().pk


def _outsiders(name, *args, method="get", data=None):
    """The auditor outside the team and the admin both get the 404 of a missing project."""
    return [
        Case(name, persona, u(name, *args), 404, method=method, data=data, absent=(NAME,))
        for persona in ("auditor_out", "admin")
    ]


CASES: list = [
    # The list shows only the user's own projects; everybody may open it.
    Case("relief:projects", "auditor", u("relief:projects"), 200),
    Case("relief:projects", "auditor2", u("relief:projects"), 200),
    Case("relief:projects", "auditor_out", u("relief:projects"), 200, absent=(NAME,)),
    Case("relief:projects", "admin", u("relief:projects"), 200, absent=(NAME,)),
    Case("relief:projects", "staff", u("relief:projects"), 200, absent=(NAME,)),
    # Creating a project needs the auditor role (admin holds every capability).
    Case("relief:project_new", "auditor_out", u("relief:project_new"), 200),
    Case("relief:project_new", "staff", u("relief:project_new"), 403),
    Case(
        "relief:project_new",
        "staff",
        u("relief:project_new"),
        403,
        method="post",
        data={"name": "x", "period_start": "2020-01-01", "period_end": "2020-03-01"},
    ),
    Case(
        "relief:project_new",
        "auditor_out",
        u("relief:project_new"),
        302,
        method="post",
        data={"name": "新项目", "period_start": "2020-01-01", "period_end": "2020-03-01"},
    ),
    # Project home and team.
    Case("relief:project", "auditor2", u("relief:project", project), 200),
    *_outsiders("relief:project", project),
    Case("relief:project", "staff", u("relief:project", project), 404),
    Case("relief:members", "auditor2", u("relief:members", project), 200),
    *_outsiders("relief:members", project),
    Case(
        "relief:members",
        "auditor",
        u("relief:members", project),
        302,
        method="post",
        data={"action": "add", "username": "auditor_out", "role": "member"},
    ),
    # A member who is not the lead may look but not change the team.
    Case(
        "relief:members",
        "auditor2",
        u("relief:members", project),
        403,
        method="post",
        data={"action": "add", "username": "auditor_out", "role": "member"},
    ),
    *_outsiders(
        "relief:members",
        project,
        method="post",
        data={"action": "add", "username": "auditor_out", "role": "member"},
    ),
    # Uploads and imports.
    Case("relief:upload", "auditor2", u("relief:upload", project), 200, method="post", data={}),
    Case("relief:upload", "auditor2", u("relief:upload", project), 405),
    *_outsiders("relief:upload", project, method="post", data={}),
    Case("relief:import", "auditor2", u("relief:import", project, imp), 200),
    *_outsiders("relief:import", project, imp),
    Case("relief:import_progress", "auditor2", u("relief:import_progress", project, imp), 302),
    *_outsiders("relief:import_progress", project, imp),
    Case(
        "relief:import_remap",
        "auditor2",
        u("relief:import_remap", project, imp),
        302,
        method="post",
        data={"kind": "cash_donation"},
    ),
    *_outsiders("relief:import_remap", project, imp, method="post", data={"kind": "bank"}),
    Case(
        "relief:import_accept",
        "auditor2",
        u("relief:import_accept", project, imp),
        302,
        method="post",
    ),
    *_outsiders("relief:import_accept", project, imp, method="post"),
    Case(
        "relief:import_discard",
        "auditor2",
        u("relief:import_discard", project, imp),
        302,
        method="post",
    ),
    Case("relief:import_discard", "auditor2", u("relief:import_discard", project, imp), 405),
    *_outsiders("relief:import_discard", project, imp, method="post"),
    Case("relief:file_download", "auditor2", u("relief:file_download", project, file), 200),
    *_outsiders("relief:file_download", project, file),
    # The catalogue.
    Case("relief:parties", "auditor2", u("relief:parties", project, query="?q=医院"), 200),
    *_outsiders("relief:parties", project),
    # A spelling is looked up within the project only (the success path: test_relief_views).
    Case(
        "relief:parties",
        "auditor2",
        u("relief:parties", project),
        404,
        method="post",
        data={"name": "0", "action": "confirm"},
    ),
    *_outsiders("relief:parties", project, method="post", data={"name": "1", "action": "confirm"}),
    Case("relief:party", "auditor2", u("relief:party", project, party), 200),
    *_outsiders("relief:party", project, party),
    Case(
        "relief:party",
        "auditor2",
        u("relief:party", project, party),
        302,
        method="post",
        data={"action": "update", "kind": "hospital", "beds": "300", "note": ""},
    ),
    *_outsiders("relief:party", project, party, method="post", data={"action": "update"}),
    Case("relief:items", "auditor2", u("relief:items", project), 200),
    *_outsiders("relief:items", project),
    Case("relief:item", "auditor2", u("relief:item", project, item), 200),
    *_outsiders("relief:item", project, item),
    Case(
        "relief:item",
        "auditor2",
        u("relief:item", project, item),
        302,
        method="post",
        data={
            "grade": "other",
            "standard": "",
            "base_uom": "只",
            "new_uom_0": "箱",
            "new_factor_0": "20",
        },
    ),
    Case("relief:synonyms", "auditor2", u("relief:synonyms", project), 200),
    *_outsiders("relief:synonyms", project),
    Case(
        "relief:synonyms",
        "auditor2",
        u("relief:synonyms", project),
        302,
        method="post",
        data={"header": "受捐单位", "field": "target"},
    ),
    *_outsiders(
        "relief:synonyms", project, method="post", data={"header": "受捐单位", "field": "target"}
    ),
]
