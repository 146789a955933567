"""Relief-audit URLs: findings, their review, the report draft and the findings workbook."""

from django.urls import path

from fangkong.relief.views import findings as v

urlpatterns = [
    path("p/<int:pk>/findings/", v.findings, name="findings"),
    path("p/<int:pk>/findings/new/", v.finding_new, name="finding_new"),
    path("p/<int:pk>/findings/<int:finding_id>/", v.finding, name="finding"),
    path("p/<int:pk>/findings/<int:finding_id>/decide/", v.finding_decide, name="finding_decide"),
    path("p/<int:pk>/findings/<int:finding_id>/note/", v.finding_note, name="finding_note"),
    path("p/<int:pk>/report.docx", v.report_docx, name="report_docx"),
    path("p/<int:pk>/findings.xlsx", v.findings_xlsx, name="findings_xlsx"),
]
