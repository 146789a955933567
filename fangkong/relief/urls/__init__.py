"""Relief-audit URLs: projects and imports, the trace, findings, the catalogue (one module each)."""

from fangkong.relief.urls import catalogue, findings, projects, trace

app_name = "relief"
urlpatterns = (
    projects.urlpatterns + trace.urlpatterns + findings.urlpatterns + catalogue.urlpatterns
)
