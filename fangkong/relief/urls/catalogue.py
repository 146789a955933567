"""Relief-audit URLs: the test catalogue, its parameters and runs."""

from django.urls import path

from fangkong.relief.views import catalogue as v

urlpatterns = [
    path("p/<int:pk>/catalogue/", v.catalogue_index, name="catalogue"),
    path("p/<int:pk>/catalogue/params/<str:test_id>/", v.catalogue_params, name="catalogue_params"),
    path("p/<int:pk>/catalogue/run/", v.catalogue_run, name="catalogue_run"),
    path("p/<int:pk>/runs/<int:run_id>/", v.run_detail, name="run"),
]
