"""Relief-audit URLs (trace)."""

urlpatterns: list = []
