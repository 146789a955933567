"""Relief-audit URLs: following a donation forward, a recipient backward, and one ledger row."""

from django.urls import path

from fangkong.relief.views import trace as v

urlpatterns = [
    path("p/<int:pk>/trace/", v.trace_index, name="trace_index"),
    path("p/<int:pk>/trace/donation/<str:ref>/", v.trace_donation, name="trace_donation"),
    path("p/<int:pk>/trace/recipient/<int:party_id>/", v.trace_recipient, name="trace_recipient"),
    path("p/<int:pk>/trace/sankey/<str:ref>.json", v.sankey_data, name="sankey_data"),
    path("p/<int:pk>/rows/<int:row_id>/", v.row, name="row"),
]
