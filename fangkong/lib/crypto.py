"""Encrypt identity numbers at rest and derive a keyed hash for uniqueness and lookup."""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(("fernet:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 so equal numbers collide (duplicate detection) without storing them in clear."""
    key = hashlib.sha256(("hmac:" + settings.FIELD_ENCRYPTION_KEY).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
