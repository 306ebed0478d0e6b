"""How an address names its country and region: codes are stored, names and postal short codes are shown."""
from django import template

from orders import regions

register = template.Library()


@register.filter
def country_name(code):
    return regions.country_name(code or "")


@register.filter
def region_short(code):
    return regions.region_short(code or "")


@register.filter
def region_name(code):
    return regions.region_name(code or "")
