"""Admin for report configuration: forms, schedule overrides and DHIS2 code mappings."""

from django.contrib import admin

from fangkong.reports.models import Dhis2Mapping, ReportForm, ScheduleOverride


class OverrideInline(admin.TabularInline):
    model = ScheduleOverride
    extra = 0
    raw_id_fields = ("unit",)


class MappingInline(admin.TabularInline):
    model = Dhis2Mapping
    extra = 0
    raw_id_fields = ("unit",)


@admin.register(ReportForm)
class ReportFormAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "root", "version", "deadline_minutes", "lock_minutes")
    raw_id_fields = ("root",)
    inlines = [OverrideInline, MappingInline]

    def save_model(self, request, obj, form, change):
        # A change of fields is a new form version, stamped on every later report.
        if change and "fields" in form.changed_data:
            obj.version += 1
        super().save_model(request, obj, form, change)
