"""Relief-audit URLs: projects, team, files and imports, the catalogue, the header dictionary."""

from django.urls import path

from fangkong.relief.views import projects as v

urlpatterns = [
    path("", v.projects, name="projects"),
    path("new/", v.project_new, name="project_new"),
    path("p/<int:pk>/", v.project, name="project"),
    path("p/<int:pk>/members/", v.members, name="members"),
    path("p/<int:pk>/upload/", v.upload, name="upload"),
    path("p/<int:pk>/imports/<int:import_id>/", v.import_preview, name="import"),
    path("p/<int:pk>/imports/<int:import_id>/progress/", v.import_progress, name="import_progress"),
    path("p/<int:pk>/imports/<int:import_id>/remap/", v.import_remap, name="import_remap"),
    path("p/<int:pk>/imports/<int:import_id>/accept/", v.import_accept, name="import_accept"),
    path("p/<int:pk>/imports/<int:import_id>/discard/", v.import_discard, name="import_discard"),
    path("p/<int:pk>/files/<int:file_id>/", v.file_download, name="file_download"),
    path("p/<int:pk>/parties/", v.parties, name="parties"),
    path("p/<int:pk>/parties/<int:party_id>/", v.party, name="party"),
    path("p/<int:pk>/items/", v.items, name="items"),
    path("p/<int:pk>/items/<int:item_id>/", v.item, name="item"),
    path("p/<int:pk>/synonyms/", v.synonyms, name="synonyms"),
]
