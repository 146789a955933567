"""Admin for reminder ladders (per form and subtree) and a read-only view of notices."""

from django.contrib import admin

from fangkong.notices.models import Notice, ReminderRule


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "unit", "form", "past_days")
    raw_id_fields = ("unit", "form")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "unit", "published_at", "requires_ack")

    def has_change_permission(self, request, obj=None):
        return False
