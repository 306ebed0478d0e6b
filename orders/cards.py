"""What a card typed at checkout must be before any gateway sees it: one set of rules for the page's form and the API.

Each check raises Django's ``ValidationError``, which forms and DRF
serializers both report against the field it names.
"""
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

YEARS_AHEAD = 15  # expiry years offered: this one and the next fifteen


def luhn_valid(number: str) -> bool:
    """The check digit every card number carries; catches typos before any gateway call."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(int(character) for character in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def clean_number(value: str) -> str:
    """The digits of a card number as typed (spaces and dashes ignored), if its check digit is right."""
    number = re.sub(r"[\s-]", "", value)
    if not luhn_valid(number):
        raise ValidationError("Enter a valid card number.")
    return number


def expiry_years() -> range:
    # Per call, so the years follow the calendar.
    year = timezone.localdate().year
    return range(year, year + YEARS_AHEAD + 1)


def check_expiry_year(year: int) -> None:
    years = expiry_years()
    if year not in years:
        raise ValidationError(f"Enter a year from {years[0]} to {years[-1]}.")


def check_not_expired(month: int, year: int) -> None:
    """A card is good through the last day of its expiry month."""
    today = timezone.localdate()
    if (year, month) < (today.year, today.month):
        raise ValidationError({"exp_month": "This card has expired."})
