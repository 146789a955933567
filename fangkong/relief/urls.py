"""Relief-audit URLs: projects and imports, the trace, findings (one module each)."""

from fangkong.relief import urls_catalogue, urls_findings, urls_projects, urls_trace

app_name = "relief"
urlpatterns = (
    urls_projects.urlpatterns
    + urls_trace.urlpatterns
    + urls_findings.urlpatterns
    + urls_catalogue.urlpatterns
)
