"""When a parcel should arrive: handling days, then transit days by warehouse and destination country.

One rule for the checkout review (before payment, from the warehouses the
cart's units are held in), the parcels made at payment and the ones shipped
(counted again from the day they left). ``SHIPPING_TRANSIT_DAYS`` maps a
warehouse code to destination countries, ``"*"`` matching any; days are
calendar days, dates are UTC ones. And where a shipped parcel can be followed:
the carrier's tracking page.
"""
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone


def transit_days(warehouse_code: str | None, country: str) -> int:
    table = settings.SHIPPING_TRANSIT_DAYS
    by_country = table.get(warehouse_code or "*", table.get("*", {}))
    return int(by_country.get(country, by_country.get("*", 0)))


def estimated_delivery(warehouse_code: str | None, country: str, *, shipped_at: datetime | None = None,
                       now: datetime | None = None) -> date:
    """The day a parcel should arrive: from its shipping day, or from now plus the handling days if not shipped."""
    if shipped_at is not None:
        leaves = shipped_at.astimezone(UTC).date()
    else:
        leaves = (now or timezone.now()).astimezone(UTC).date() + timedelta(days=settings.SHIPPING_HANDLING_DAYS)
    return leaves + timedelta(days=transit_days(warehouse_code, country))


def tracking_url(carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for a parcel (ORDER_TRACKING_URLS), or "" for a carrier it does not list."""
    pattern = {name.lower(): url for name, url in settings.ORDER_TRACKING_URLS.items()}.get(carrier.strip().lower())
    if not pattern or not tracking_number:
        return ""
    return pattern.format(number=quote(tracking_number.strip(), safe=""))
