"""Education posts, display links and the big screen. Each pattern has cases in tests/test_scope.py."""

from django.urls import path

from fangkong.screen import views

app_name = "screen"
urlpatterns = [
    path("posts/", views.posts, name="posts"),
    path("posts/<int:post_id>/unpublish/", views.post_unpublish, name="post_unpublish"),
    path("links/", views.links, name="links"),
    path("links/<int:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path("u/<str:code>/", views.unit_screen, name="unit"),
    path("u/<str:code>/data.json", views.unit_screen_data, name="unit_data"),
    path("d/<str:token>/", views.display, name="display"),
    path("d/<str:token>/data.json", views.display_data, name="display_data"),
]
