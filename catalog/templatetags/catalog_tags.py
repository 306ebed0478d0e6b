import html
import re

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from catalog import artwork, pagination

register = template.Library()


@register.simple_tag
def placeholder_image(product):
    """An inline SVG standing in for a missing photo in the staff admin's lists: no file, no request.
    (The shop's pages show the drawing of ``catalog.artwork`` instead.)

    The colour comes from the product id so neighbouring cards differ, and the
    brand's initials say what the picture would have shown.
    """
    hue = (product.pk or 0) * 47 % 360
    initials = "".join(word[0] for word in product.brand.name.split()[:2]).upper() or "?"
    return format_html(
        '<svg class="product-image placeholder" viewBox="0 0 200 200" width="200" height="200" role="img" aria-label="{}">'
        '<rect width="200" height="200" fill="hsl({}, 45%, 88%)"/>'
        '<text x="100" y="115" text-anchor="middle" font-size="56" font-family="sans-serif" '
        'fill="hsl({}, 35%, 35%)">{}</text></svg>',
        f"No photo of {product.title}",
        hue,
        hue,
        initials,
    )


@register.simple_tag
def page_numbers(page):
    """The numbers a pager links to (``None`` where it skips some): see ``catalog.pagination.page_numbers``."""
    return pagination.page_numbers(page.number, page.paginator.num_pages)


@register.simple_tag
def product_image_url(product):
    """The product's photo, or its drawn picture (``catalog.artwork``), versioned by
    the product's last change so the year-long cache never shows an old drawing."""
    if product.image:
        return product.image.url
    version = f"{artwork.VERSION}.{int(product.updated_at.timestamp()):x}" if product.updated_at else artwork.VERSION
    return f"{reverse('product-image', args=[product.pk])}?v={version}"


@register.simple_tag
def product_picture(product, eager=False):
    """A product's picture as an ``<img>``; ``eager`` for the one a page is about."""
    loading = "" if eager else ' loading="lazy" decoding="async"'
    return format_html(
        '<img class="product-image{}" src="{}" alt="{}" width="400" height="400"{}>',
        "" if product.image else " product-image--drawn",
        product_image_url(product),
        product.title,
        mark_safe(loading),
    )


_TOKEN = re.compile(r"([^\W_]+)")


def _stem(word):
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


@register.filter
def highlight(text, words):
    """Wrap the words of ``text`` that the query matched in <mark>.

    A word matches when it starts with a query word's stem, the way search
    matches plurals ("cables" marks "Cable") and the word being typed ("charg").
    """
    stems = [_stem(word.lower()) for word in words or ()]
    if not stems:
        return text

    def matched(token):
        lowered = token.lower()
        return any(lowered.startswith(stem) or _stem(lowered) == stem for stem in stems)

    # split() with a group keeps the words at odd positions; every piece is
    # escaped on its own so a mark never lands inside an HTML entity. The
    # standard library's escape (what Django's wraps) costs a tenth as much,
    # which a page of 24 titles notices.
    pieces = _TOKEN.split(str(text))
    return mark_safe(
        "".join(
            f"<mark>{html.escape(piece)}</mark>" if position % 2 and matched(piece) else html.escape(piece)
            for position, piece in enumerate(pieces)
        )
    )


@register.simple_tag
def product_card(product, highlight_words=None):
    """A product's card in a listing, a shelf or search results.

    Written here rather than as a template: a results page shows 24 of them,
    and Django's template engine spent half a millisecond on each, half of
    what the whole page cost to render. ``product`` comes from
    ``catalog.selectors.products_by_ids`` (brand, ``stock_badge``).
    """
    title = Truncator(product.title).chars(90)
    return format_html(
        '<li class="card">\n  <a class="card-link" href="{}">\n    {}\n    <span class="card-title">{}</span>\n  </a>\n'
        '  <span class="card-brand">{}</span>\n'
        '  <span class="rating" title="{} out of 5">{} ★ <span class="muted">({})</span></span>\n'
        '  <span class="price">${}</span>\n'
        '  <span class="badge badge--{}">{}</span>\n</li>',
        product.get_absolute_url(),
        product_picture(product),
        highlight(title, highlight_words) if highlight_words else title,
        product.brand.name,
        product.rating,
        product.rating,
        f"{product.review_count:,}",
        f"{product.price:,}",
        product.stock_badge.level,
        product.stock_badge.label,
    )
