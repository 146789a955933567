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
    path("units/<str:code>/", views.unit_accounts, name="unit_accounts"),
    path("units/<str:code>/slips.pdf", views.unit_slips, name="unit_slips"),
    path("units/<str:code>/roles/", views.unit_roles, name="unit_roles"),
    path("units/<str:code>/roles/revoke/", views.unit_role_revoke, name="unit_role_revoke"),
    path("batches/<int:batch_id>/", views.batch, name="batch"),
    path("batches/<int:batch_id>/progress/", views.batch_progress, name="batch_progress"),
]
