"""Password strength beyond Django's defaults."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ERR_CLASSES = "密码须至少包含大写字母、小写字母、数字、符号中的三类。"


class CharacterClassValidator:
    """Require at least three of: upper case, lower case, digit, symbol."""

    def validate(self, password, user=None):
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(_(ERR_CLASSES), code="password_classes")

    def get_help_text(self):
        return _(ERR_CLASSES)
