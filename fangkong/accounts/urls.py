from django.urls import path

from fangkong.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("unlock/", views.unlock, name="unlock"),
    path("activate/", views.activate, name="activate"),
    path("password/", views.password_change, name="password_change"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/reset-password/", views.user_reset_password, name="user_reset"),
]
