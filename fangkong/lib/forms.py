"""The base form of every Fangkong form: text fields refuse control characters and bidirectional
controls (lib/text.py).

The rule is attached when the form is cleaned, so fields a form adds in its own `__init__` are
covered too; a Textarea is multi-line (tab and line breaks allowed), every other text field is
single-line.
"""

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from fangkong.lib.text import NoControlCharacters


def guard_text_fields(fields) -> None:
    """Give every text field of a bound form the control-character rule (once)."""
    for field in fields.values():
        if not isinstance(field, forms.CharField):
            continue
        if any(isinstance(v, NoControlCharacters) for v in field.validators):
            continue
        # Django's own NUL check says it in English; ours covers NUL with the rest.
        field.validators = [
            v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        field.validators.append(
            NoControlCharacters(multiline=isinstance(field.widget, forms.Textarea))
        )


class Form(forms.Form):
    """Use instead of django.forms.Form."""

    def full_clean(self):
        guard_text_fields(self.fields)
        super().full_clean()
