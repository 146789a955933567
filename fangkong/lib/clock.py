"""The server clock. Every timestamp and every derived status reads it from here.

Production always uses the real time. Tests may `freeze()` it to drive a day through time;
there is no way for a client to set it.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> date:
    """Today's date in the server's time zone (Asia/Shanghai)."""
    return timezone.localtime(now()).date()


def local_datetime(day: date, at: time) -> datetime:
    """An aware datetime for a local wall-clock time on `day`."""
    return timezone.make_aware(datetime.combine(day, at))


def day_start(day: date) -> datetime:
    return local_datetime(day, time(0, 0))


def freeze(moment: datetime | None) -> None:
    """Tests only: pin the clock (None releases it)."""
    global _frozen
    _frozen = moment


def advance(delta: timedelta) -> None:
    """Tests only: move a frozen clock forward."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("clock is not frozen")
    _frozen = _frozen + delta
