"""Plausibility bounds: the one rule for every date and number a user or a file can give us.

A date must lie in a window around the server's today (`settings.PLAUSIBLE_DAYS`, by what the
date is); a number must be finite and below a ceiling. Forms, the API, query strings, report
figures and relief ledgers all ask here, so the bounds and their messages never drift apart.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib import clock

ERR_DATE_WINDOW = N_("日期应在 {earliest} 至 {latest} 之间，请核对。")
ERR_DATE_FORMAT = N_("日期格式应为 YYYY-MM-DD，例如 2020-02-03。")

# What each window is for; the sizes live in settings.PLAUSIBLE_DAYS as (days before, days after).
FORM = "form"  # dates typed into forms and the API: quarantine start, exemptions, posts, notices
VIEW = "view"  # days in addresses and query strings: day pages, roll-ups, exports
LEDGER = "ledger"  # relief ledgers and audit periods: an audit looks back years


def window(kind: str = FORM, *, past_days: int | None = None, future_days: int | None = None):
    """(earliest, latest) dates of a window around today; explicit days override the setting's."""
    past, future = settings.PLAUSIBLE_DAYS[kind]
    past = past if past_days is None else past_days
    future = future if future_days is None else future_days
    today = clock.today()
    return today - timedelta(days=past), today + timedelta(days=future)


def date_problem(
    value: date, kind: str = FORM, *, past_days: int | None = None, future_days: int | None = None
) -> str | None:
    """The message when `value` is outside its window, else None."""
    earliest, latest = window(kind, past_days=past_days, future_days=future_days)
    if earliest <= value <= latest:
        return None
    return _(ERR_DATE_WINDOW).format(earliest=earliest.isoformat(), latest=latest.isoformat())


def plausible_date(
    value: date, kind: str = FORM, *, past_days: int | None = None, future_days: int | None = None
) -> date:
    """`value` itself, or ValidationError saying the window."""
    problem = date_problem(value, kind, past_days=past_days, future_days=future_days)
    if problem:
        raise ValidationError(problem, code="date_window")
    return value


def query_day(text: str | None, default: date, kind: str = VIEW) -> date:
    """A day from a query string or an address: `default` when absent, else a plausible date.

    Malformed ("0", "2020-02-30") and far dates raise ValidationError with the message to show.
    """
    if text is None or text == "":
        return default
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_(ERR_DATE_FORMAT), code="date_format")
    return plausible_date(day, kind)


def finite_decimal(value) -> Decimal | None:
    """A number written as text, int or float → a finite Decimal; None for NaN, ±Infinity or
    anything that is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
