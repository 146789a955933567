"""Relief-audit URLs (projects)."""

urlpatterns: list = []
