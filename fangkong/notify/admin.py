"""Read-only admin view of the outbox; retries go through the outbox page (audited)."""

from django.contrib import admin

from fangkong.notify.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "status", "attempts", "address", "user", "subject")
    list_filter = ("channel", "status", "kind")
    search_fields = ("key", "address", "subject")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
