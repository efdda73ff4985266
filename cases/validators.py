"""Unified social credit code (GB 32100-2015) check, DOMAIN.md §3."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_is_valid(code: str) -> bool:
    if len(code) != 18 or any(ch not in CHARSET for ch in code):
        return False
    total = sum(CHARSET.index(ch) * w for ch, w in zip(code[:17], WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31] == code[17]


def validate_credit_code(value: str) -> None:
    if value and not credit_code_is_valid(value):
        raise ValidationError(
            _("“%(value)s” is not a valid unified social credit code (18 characters, GB 32100)."),
            code="invalid_credit_code",
            params={"value": value},
        )
