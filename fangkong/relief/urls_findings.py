"""Relief-audit URLs (findings)."""

urlpatterns: list = []
