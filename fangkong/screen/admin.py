"""Admin: read-only views of posts and display links (changes go through the audited pages)."""

from django.contrib import admin

from fangkong.screen.models import DisplayLink, EducationPost


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EducationPost)
class EducationPostAdmin(ReadOnlyAdmin):
    list_display = ("title", "unit", "published_from", "published_until", "created_by")
    list_select_related = ("unit", "created_by")
    search_fields = ("title", "body")


@admin.register(DisplayLink)
class DisplayLinkAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "node",
        "form",
        "created_by",
        "created_at",
        "revoked_at",
        "last_seen_at",
    )
    list_select_related = ("node", "form", "created_by")
    exclude = ("token_hash",)
