"""Downloads of the report and the findings workbook, each on record (who took which findings
out, when)."""

from fangkong.audit.services import audit_record
from fangkong.relief.findings.docx import build_docx
from fangkong.relief.findings.xlsx import build_xlsx
from fangkong.relief.models import (
    AuditProject,
    FindingStatus,
)


def report_download(*, actor, project: AuditProject) -> bytes:
    """The report draft, with the download on record (who took which findings out, when)."""
    data = build_docx(project)
    audit_record(
        actor=actor,
        action="relief.report.download",
        obj=project,
        new={
            "confirmed": project.findings.filter(status=FindingStatus.CONFIRMED).count(),
            "open": project.findings.filter(status=FindingStatus.OPEN).count(),
        },
    )
    return data


def findings_download(*, actor, project: AuditProject) -> bytes:
    data = build_xlsx(project)
    audit_record(
        actor=actor,
        action="relief.findings.download",
        obj=project,
        new={"findings": project.findings.count()},
    )
    return data
