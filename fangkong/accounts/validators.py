"""Password strength beyond Django's defaults."""

from django.contrib.auth import password_validation
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


ERR_TOO_SHORT = "密码太短，至少需要 {n} 个字符。"


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with its message in Chinese: Django 5.2 changed the English text and
    its zh_Hans catalogue still has the old one, so people saw the rule in English."""

    def get_error_message(self):
        return _(ERR_TOO_SHORT).format(n=self.min_length)
