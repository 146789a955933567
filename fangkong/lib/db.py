"""Query helpers shared by selectors and services."""

from django.db.models import Model, QuerySet


def one_or_none(qs: QuerySet) -> Model | None:
    """The row of a lookup that matches at most one row, without `first()`'s ORDER BY id.

    An ORDER BY id LIMIT 1 can make PostgreSQL walk the primary-key index instead of using the
    unique index the filter matches; a unique lookup needs no ordering.
    """
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None
