from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def placeholder_image(product):
    """An inline SVG standing in for a missing photo: no file, no request.

    The colour comes from the product id so neighbouring cards differ, and the
    brand's initials say what the picture would have shown.
    """
    hue = (product.pk or 0) * 47 % 360
    initials = "".join(word[0] for word in product.brand.name.split()[:2]).upper() or "?"
    return format_html(
        '<svg class="product-image placeholder" viewBox="0 0 200 200" role="img" aria-label="{}">'
        '<rect width="200" height="200" fill="hsl({}, 45%, 88%)"/>'
        '<text x="100" y="115" text-anchor="middle" font-size="56" font-family="sans-serif" '
        'fill="hsl({}, 35%, 35%)">{}</text></svg>',
        f"No photo of {product.title}",
        hue,
        hue,
        initials,
    )
