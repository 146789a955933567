from django.urls import path

from fangkong.org import roster_views, views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("units/<str:code>/leading-group/", views.leading_group, name="leading_group"),
    path(
        "units/<str:code>/leading-group/<int:seat_id>/end/",
        views.leading_group_end,
        name="leading_group_end",
    ),
    path("people/<int:person_id>/", views.person_detail, name="person"),
    path(
        "people/<int:person_id>/reveal/<str:field>/",
        views.person_reveal,
        name="person_reveal",
    ),
    path("people/<int:person_id>/family/", views.family, name="family"),
    path(
        "people/<int:person_id>/family/<int:member_id>/move-out/",
        views.family_move_out,
        name="family_move_out",
    ),
    path("roster/import/", roster_views.roster_import, name="roster_import"),
    path("roster/import/<int:upload_id>/", roster_views.roster_preview, name="roster_preview"),
    path("roster/export/", roster_views.roster_export, name="roster_export"),
]
