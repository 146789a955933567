"""Template filters for report pages."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """mapping|get:key — dictionary lookup with a variable key."""
    if mapping is None:
        return ""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def pct(value):
    """0.953 → 95.3%; None (nothing expected) → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def derived(measures, form):
    """Check-in measures keyed by the form's field keys."""
    return {f["key"]: measures.get(f.get("derive", ""), 0) for f in form.fields}
