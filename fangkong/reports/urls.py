from django.urls import path

from fangkong.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.today, name="today"),
    path("verify/", views.verify, name="verify"),
    path("r/<int:report_id>/", views.report_detail, name="report"),
    path("<int:form_id>/rollup/", views.rollup, name="rollup"),
    path("<int:form_id>/rollup.pdf", views.rollup_pdf, name="rollup_pdf"),
    path("<int:form_id>/ledger.xlsx", views.ledger, name="ledger"),
    path("<int:form_id>/dhis2.json", views.dhis2, name="dhis2"),
    path("<int:form_id>/signals/", views.signal_review, name="signal_review"),
    path("<int:form_id>/units/<str:code>/", views.unit_history, name="history"),
    path("<int:form_id>/units/<str:code>/<str:day>/", views.submit, name="submit"),
    path("<int:form_id>/units/<str:code>/<str:day>/unlock/", views.unlock, name="unlock"),
]
