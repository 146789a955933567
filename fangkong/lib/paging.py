"""API paging with bounds: a page holds at most API_MAX_PAGE_SIZE items and the offset is capped,
so a huge `limit` or `offset` is a 422 with a message, never a database overflow."""

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination


class BoundedPagination(LimitOffsetPagination):
    """Ninja's limit/offset paging with an upper bound on both (NINJA_PAGINATION_CLASS)."""

    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT
        )
        offset: int = Field(0, ge=0, le=settings.API_MAX_OFFSET)
