"""Admin for configuration tables (levels, ranks). Units and people are managed through services."""

from django.contrib import admin

from fangkong.org.models import Rank, UnitLevel


@admin.register(UnitLevel)
class UnitLevelAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name", "name_en")


@admin.register(Rank)
class RankAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name", "name_en")
