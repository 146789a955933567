from django.urls import path

from fangkong.health import views

app_name = "health"
urlpatterns = [
    path("checkin/", views.checkin, name="checkin"),
    path("checkin/for/<int:person_id>/", views.checkin_proxy, name="checkin_proxy"),
    path("history/", views.history, name="history"),
    path("checkins/<int:checkin_id>/", views.checkin_detail, name="checkin_detail"),
    path("units/<str:code>/", views.unit_day, name="unit_day"),
    path("units/<str:code>/chase/", views.unit_day_chase, name="unit_day_chase"),
    path("units/<str:code>/export/", views.unit_day_export, name="unit_day_export"),
    path("cases/", views.cases, name="cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("people/<int:person_id>/exemptions/", views.exemption_add, name="exemption_add"),
]
