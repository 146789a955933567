"""Relief scope cases (findings): see tests/test_relief_scope.py."""

from fangkong.relief import services
from fangkong.relief.ledger import store
from tests.relief_case import Case, u

SCOPE_TITLE = "范围测试：定向捐赠未按指定用途使用"


def first_row(rw) -> dict:
    """The first imported ledger row of the project: file, sheet, row number and store id."""
    with store.project_db(rw.project.pk) as con:
        found = store.rows(
            con,
            "SELECT row_id, file_id, sheet, row_no FROM raw_entries ORDER BY row_id LIMIT 1",
        )
    return found[0]


def scope_finding(rw) -> int:
    """One finding with one evidence row, made on first use by a case's path."""
    done = rw.project.findings.filter(title=SCOPE_TITLE).first()
    if done is None:
        row = first_row(rw)
        done = services.finding_add(
            actor=rw.users["auditor"],
            project=rw.project,
            title=SCOPE_TITLE,
            severity="high",
            amount_fen=123450,
            evidence=[
                {
                    "source_id": row["file_id"],
                    "sheet": row["sheet"],
                    "row_no": row["row_no"],
                    "row_id": row["row_id"],
                }
            ],
        )
    return done.pk


def project(rw) -> int:
    return rw.project.pk


NEW = {"title": "范围测试：手工问题", "severity": "medium", "amount": "1,234.50"}
OUTSIDERS = ("auditor_out", "admin")

CASES: list = [
    Case("relief:findings", "auditor", u("relief:findings", project), 200),
    Case("relief:findings", "auditor2", u("relief:findings", project, query="?severity=high"), 200),
    Case("relief:finding_new", "auditor2", u("relief:finding_new", project), 200),
    Case("relief:finding_new", "auditor", u("relief:finding_new", project), 302, "post", NEW),
    Case("relief:finding", "auditor2", u("relief:finding", project, scope_finding), 200),
    Case(
        "relief:finding_decide",
        "auditor2",
        u("relief:finding_decide", project, scope_finding),
        302,
        "post",
        {"action": "confirm"},
    ),
    Case(
        "relief:finding_note",
        "auditor",
        u("relief:finding_note", project, scope_finding),
        302,
        "post",
        {"text": "已约谈经办人"},
    ),
    Case("relief:report_docx", "auditor2", u("relief:report_docx", project), 200),
    Case("relief:findings_xlsx", "auditor", u("relief:findings_xlsx", project), 200),
]
for persona in OUTSIDERS:
    CASES += [
        Case("relief:findings", persona, u("relief:findings", project), 404),
        Case("relief:finding_new", persona, u("relief:finding_new", project), 404),
        Case("relief:finding_new", persona, u("relief:finding_new", project), 404, "post", NEW),
        Case("relief:finding", persona, u("relief:finding", project, scope_finding), 404),
        Case(
            "relief:finding_decide",
            persona,
            u("relief:finding_decide", project, scope_finding),
            404,
            "post",
            {"action": "confirm"},
        ),
        Case(
            "relief:finding_note",
            persona,
            u("relief:finding_note", project, scope_finding),
            404,
            "post",
            {"text": "外部人员的批注"},
        ),
        Case("relief:report_docx", persona, u("relief:report_docx", project), 404),
        Case("relief:findings_xlsx", persona, u("relief:findings_xlsx", project), 404),
    ]
# A finding of another project's number is the same 404 as one that does not exist.
CASES.append(Case("relief:finding", "auditor", u("relief:finding", project, 999999), 404))
