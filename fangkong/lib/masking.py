"""Mask personal identifiers for display, export and logs."""


def mask_id_number(value: str | None) -> str:
    """420***********1234: first three and last four characters of a resident ID number."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str | None) -> str:
    """138****5678: first three and last four digits of a mobile number."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_username(value: str | None) -> str:
    """139****5678 for a username that is a number (a mobile number under the default username
    rule, or a staff number); a handle an administrator chose (hz_liaison) as it is."""
    if not value:
        return ""
    return mask_mobile(value) if value.isascii() and value.isdigit() else value


def mask_name(value: str | None) -> str:
    """张*明: keep the first and last character of a Chinese name."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
