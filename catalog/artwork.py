"""Pictures for products that have no photo, drawn from what the catalog knows.

A shopper scanning a grid tells products apart by their picture. Without a
photo, each product gets a deterministic SVG: its kind of thing (a pictogram
chosen from its category and the category's ancestors), in its colour (the
``color`` attribute, when it has one), with its brand initials and a short
caption of its name. The same product always draws the same bytes, so the
picture can be cached for a year under a URL that changes when the product does
(``catalog.templatetags.catalog_tags.product_image_url``).

Drawn with presentation attributes only (no ``style``), so the strict CSP
allows it opened on its own as well as in an ``<img>``.
"""
import colorsys
import hashlib
from dataclasses import dataclass
from html import escape

# Bumped when the drawing changes, so cached pictures are fetched again.
VERSION = "1"
CACHE_SECONDS = 365 * 24 * 3600
CAPTION_CHARS = 26

# Named colours of the catalog's ``color`` values (lower case); others get a hue from their name.
COLOURS = {
    "black": "#2b2d31", "white": "#f4f4f2", "silver": "#c0c4c8", "graphite": "#4a4f55", "gray": "#8d9399",
    "grey": "#8d9399", "heather gray": "#a3a7ab", "blue": "#2f6fd6", "navy": "#1f3358", "sage": "#9caf88",
    "olive": "#6b7035", "burgundy": "#7d1f35", "red": "#d03a2f", "orange": "#ee7b22", "green": "#2f9a52",
    "yellow": "#f2c230", "pink": "#e77fa8", "purple": "#7448b3", "brown": "#7a5233", "beige": "#d8c7a3",
    "gold": "#c9a227", "rose gold": "#d8a39b", "teal": "#1f8a8a",
}

# Pictograms in a 100×100 box, drawn in the product's colour (``fill``) with a darker outline (``line``).
PICTOGRAMS = {
    "headphones": (
        '<path d="M18 62 V50 a32 32 0 0 1 64 0 V62" fill="none" stroke="{line}" stroke-width="7" stroke-linecap="round"/>'
        '<rect x="10" y="56" width="20" height="30" rx="7" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="70" y="56" width="20" height="30" rx="7" fill="{fill}" stroke="{line}" stroke-width="3"/>'
    ),
    "cable": (
        '<path d="M50 92 C50 70 20 70 20 52 S50 30 50 18" fill="none" stroke="{line}" stroke-width="6" stroke-linecap="round"/>'
        '<rect x="38" y="4" width="24" height="20" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="43" y="-4" width="4" height="9" fill="{line}"/><rect x="53" y="-4" width="4" height="9" fill="{line}"/>'
    ),
    "camera": (
        '<rect x="8" y="28" width="84" height="56" rx="9" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="32" y="18" width="28" height="14" rx="3" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="50" cy="56" r="18" fill="#ffffff" fill-opacity=".55" stroke="{line}" stroke-width="4"/>'
        '<circle cx="50" cy="56" r="8" fill="{line}"/>'
    ),
    "device": (
        '<rect x="10" y="18" width="80" height="52" rx="5" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="17" y="25" width="66" height="38" rx="2" fill="#ffffff" fill-opacity=".45"/>'
        '<path d="M2 78 H98 L92 86 H8 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
    ),
    "speaker": (
        '<rect x="24" y="6" width="52" height="88" rx="10" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="50" cy="30" r="10" fill="#ffffff" fill-opacity=".45" stroke="{line}" stroke-width="3"/>'
        '<circle cx="50" cy="66" r="17" fill="#ffffff" fill-opacity=".45" stroke="{line}" stroke-width="3"/>'
    ),
    "pan": (
        '<ellipse cx="42" cy="58" rx="34" ry="24" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<ellipse cx="42" cy="54" rx="26" ry="15" fill="#ffffff" fill-opacity=".35"/>'
        '<rect x="72" y="50" width="28" height="9" rx="4" fill="{line}"/>'
    ),
    "appliance": (
        '<rect x="20" y="14" width="60" height="76" rx="8" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="30" y="26" width="40" height="30" rx="4" fill="#ffffff" fill-opacity=".45"/>'
        '<circle cx="38" cy="72" r="5" fill="{line}"/><circle cx="62" cy="72" r="5" fill="{line}"/>'
    ),
    "pillow": (
        '<path d="M12 26 Q50 14 88 26 Q96 50 88 74 Q50 86 12 74 Q4 50 12 26 Z" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<path d="M24 38 Q50 32 76 38" fill="none" stroke="{line}" stroke-width="2" stroke-opacity=".5"/>'
    ),
    "lamp": (
        '<path d="M28 50 L38 12 H62 L72 50 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<rect x="47" y="50" width="6" height="32" fill="{line}"/><rect x="30" y="82" width="40" height="8" rx="3" fill="{line}"/>'
    ),
    "box": (
        '<path d="M50 8 L90 28 V72 L50 92 L10 72 V28 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M10 28 L50 48 L90 28 M50 48 V92" fill="none" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
    ),
    "book": (
        '<rect x="18" y="8" width="64" height="84" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="18" y="8" width="12" height="84" rx="3" fill="{line}" fill-opacity=".45"/>'
        '<rect x="38" y="24" width="34" height="6" rx="2" fill="#ffffff" fill-opacity=".7"/>'
        '<rect x="38" y="36" width="24" height="4" rx="2" fill="#ffffff" fill-opacity=".6"/>'
    ),
    "shirt": (
        '<path d="M34 10 L12 22 L4 44 L20 50 L24 40 V92 H76 V40 L80 50 L96 44 L88 22 L66 10 Q50 24 34 10 Z" '
        'fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
    ),
    "shoe": (
        '<path d="M8 42 Q10 30 24 32 Q40 44 56 48 L84 56 Q96 60 96 72 V78 H8 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M8 70 H96" stroke="{line}" stroke-width="4"/>'
    ),
    "cap": (
        '<path d="M14 64 Q14 24 52 24 Q86 24 86 64 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M60 64 Q84 60 98 70 Q80 76 56 72 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<circle cx="52" cy="22" r="4" fill="{line}"/>'
    ),
    "tent": (
        '<path d="M50 12 L92 86 H8 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M50 40 L64 86 H36 Z" fill="{line}" fill-opacity=".55"/>'
    ),
    "dumbbell": (
        '<rect x="30" y="45" width="40" height="10" rx="3" fill="{line}"/>'
        '<rect x="10" y="28" width="14" height="44" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="76" y="28" width="14" height="44" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="22" y="36" width="9" height="28" rx="3" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="69" y="36" width="9" height="28" rx="3" fill="{fill}" stroke="{line}" stroke-width="3"/>'
    ),
    "wheel": (
        '<circle cx="26" cy="66" r="20" fill="none" stroke="{line}" stroke-width="5"/>'
        '<circle cx="74" cy="66" r="20" fill="none" stroke="{line}" stroke-width="5"/>'
        '<path d="M26 66 L44 36 H70 L74 66 M44 36 L52 66 L70 36" fill="none" stroke="{fill}" stroke-width="6" stroke-linejoin="round"/>'
    ),
    "wave": (
        '<path d="M4 50 Q16 38 28 50 T52 50 T76 50 T100 50 V92 H4 Z" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="70" cy="22" r="12" fill="{fill}" stroke="{line}" stroke-width="3"/>'
    ),
    "blocks": (
        '<rect x="10" y="52" width="38" height="38" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="52" y="52" width="38" height="38" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="31" y="12" width="38" height="38" rx="4" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="50" cy="31" r="7" fill="#ffffff" fill-opacity=".5"/>'
    ),
    "dice": (
        '<rect x="14" y="14" width="72" height="72" rx="12" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="32" cy="32" r="6" fill="{line}"/><circle cx="50" cy="50" r="6" fill="{line}"/>'
        '<circle cx="68" cy="68" r="6" fill="{line}"/>'
    ),
    "bear": (
        '<circle cx="26" cy="24" r="12" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="74" cy="24" r="12" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="50" cy="54" r="36" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<circle cx="38" cy="48" r="4" fill="{line}"/><circle cx="62" cy="48" r="4" fill="{line}"/>'
        '<ellipse cx="50" cy="66" rx="10" ry="7" fill="#ffffff" fill-opacity=".55"/>'
    ),
    "bottle": (
        '<rect x="40" y="4" width="20" height="14" rx="3" fill="{line}"/>'
        '<path d="M36 18 H64 V28 Q76 34 76 48 V88 Q76 96 68 96 H32 Q24 96 24 88 V48 Q24 34 36 28 Z" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="32" y="52" width="36" height="24" rx="3" fill="#ffffff" fill-opacity=".6"/>'
    ),
    "cup": (
        '<path d="M14 30 H74 L68 86 Q66 94 58 94 H30 Q22 94 20 86 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M72 42 Q94 42 90 58 Q86 70 69 70" fill="none" stroke="{line}" stroke-width="5"/>'
        '<path d="M34 20 Q28 12 34 4 M50 20 Q44 12 50 4" fill="none" stroke="{line}" stroke-width="3" stroke-opacity=".5" stroke-linecap="round"/>'
    ),
    "jar": (
        '<rect x="26" y="8" width="48" height="14" rx="3" fill="{line}"/>'
        '<rect x="20" y="20" width="60" height="74" rx="12" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="28" y="42" width="44" height="28" rx="3" fill="#ffffff" fill-opacity=".6"/>'
    ),
    "pencil": (
        '<path d="M22 90 L30 64 L76 18 Q82 12 88 18 Q94 24 88 30 L42 76 Z" fill="{fill}" stroke="{line}" stroke-width="3" stroke-linejoin="round"/>'
        '<path d="M22 90 L26 77 L35 86 Z" fill="{line}"/>'
    ),
    "notebook": (
        '<rect x="20" y="8" width="62" height="84" rx="5" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<path d="M14 22 H26 M14 38 H26 M14 54 H26 M14 70 H26" stroke="{line}" stroke-width="4" stroke-linecap="round"/>'
        '<rect x="36" y="24" width="34" height="10" rx="2" fill="#ffffff" fill-opacity=".65"/>'
    ),
    "chair": (
        '<rect x="28" y="8" width="44" height="40" rx="8" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<rect x="22" y="50" width="56" height="12" rx="5" fill="{fill}" stroke="{line}" stroke-width="3"/>'
        '<path d="M50 62 V82 M30 92 L50 82 L70 92" fill="none" stroke="{line}" stroke-width="5" stroke-linecap="round"/>'
    ),
}

# Starts of the words of a category's slug (the product's own category first,
# then its ancestors) to the pictogram that draws its products; the first match wins.
KINDS = (
    ("headphone", "headphones"), ("earbud", "headphones"), ("cable", "cable"), ("charger", "cable"),
    ("camera", "camera"), ("speaker", "speaker"), ("portable-audio", "speaker"), ("audio", "headphones"),
    ("computer", "device"), ("smart-home", "speaker"), ("electronic", "device"),
    ("cookware", "pan"), ("appliance", "appliance"), ("bedding", "pillow"), ("decor", "lamp"),
    ("storage", "box"), ("kitchen", "pan"), ("home", "lamp"),
    ("book", "book"), ("fiction", "book"), ("fantasy", "book"), ("business", "book"),
    ("shoe", "shoe"), ("accessor", "cap"), ("clothing", "shirt"), ("fashion", "shirt"),
    ("camping", "tent"), ("fitness", "dumbbell"), ("cycling", "wheel"), ("water", "wave"), ("sport", "dumbbell"),
    ("building", "blocks"), ("board-game", "dice"), ("doll", "bear"), ("outdoor-play", "blocks"), ("toy", "blocks"),
    ("game", "dice"), ("hair", "bottle"), ("skin", "bottle"), ("oral", "bottle"), ("fragrance", "bottle"),
    ("beauty", "bottle"), ("care", "bottle"), ("coffee", "cup"), ("tea", "cup"), ("snack", "jar"), ("pantry", "jar"),
    ("grocery", "jar"), ("writing", "pencil"), ("paper", "notebook"), ("chair", "chair"), ("furniture", "chair"), ("office", "notebook"),
)
DEFAULT_KIND = "box"


@dataclass(frozen=True)
class Subject:
    """What a product's picture is drawn from (``catalog.selectors.artwork_subject``)."""

    title: str
    brand: str
    category_slugs: tuple[str, ...]  # the product's category, then its ancestors up to the department
    colour: str = ""


def kind_of(category_slugs) -> str:
    """The pictogram for a product of these categories. A key matches at the start
    of a word of the slug: "book" draws "childrens-books" but not "cookbooks"
    (whose parent, "books", does), "hair" draws "hair-care" but not "office-chairs"."""
    for slug in category_slugs:
        words = f"-{slug}"
        for key, kind in KINDS:
            if f"-{key}" in words:
                return kind
    return DEFAULT_KIND


def _digest(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big")


def _hex(r, g, b) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(channel * 255) for channel in (r, g, b)))


def _shade(colour: str, lightness: float, saturation: float | None = None) -> str:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _, sat = colorsys.rgb_to_hls(r, g, b)
    return _hex(*colorsys.hls_to_rgb(hue, lightness, sat if saturation is None else saturation))


def base_colour(subject: Subject) -> str:
    """The product's colour; without one, a hue of its kind of thing, varied by its name."""
    named = subject.colour.strip().lower()
    if named in COLOURS:
        return COLOURS[named]
    if named:
        hue = _digest(named) % 360 / 360
    else:
        hue = (_digest(kind_of(subject.category_slugs)) % 360 + _digest(subject.title) % 40 - 20) % 360 / 360
    return _hex(*colorsys.hls_to_rgb(hue, 0.52, 0.55))


def initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2] if word[0].isalnum()).upper() or "?"


def caption(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= CAPTION_CHARS else title[: CAPTION_CHARS - 1].rstrip() + "…"


def draw(subject: Subject) -> str:
    """The SVG document for ``subject``: the same subject always draws the same text."""
    fill = base_colour(subject)
    line = _shade(fill, 0.22)
    backdrop = _shade(fill, 0.93, 0.35)
    accent = _shade(fill, 0.84, 0.4)
    seed = _digest(subject.title, subject.brand)
    # Where the backdrop's disc sits and how the pictogram tilts tell same-kind, same-colour products apart.
    disc_x, disc_y, tilt = 60 + seed % 80, 50 + (seed >> 8) % 50, (seed >> 16) % 13 - 6
    pictogram = PICTOGRAMS[kind_of(subject.category_slugs)].format(fill=fill, line=line)
    label = escape(subject.title)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="400" height="400" '
        f'role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<rect width="200" height="200" fill="{backdrop}"/>'
        f'<circle cx="{disc_x}" cy="{disc_y}" r="70" fill="{accent}"/>'
        f'<ellipse cx="100" cy="150" rx="62" ry="8" fill="{line}" fill-opacity=".12"/>'
        f'<g transform="translate(55 42) scale(.9) rotate({tilt} 50 50)">{pictogram}</g>'
        f'<circle cx="28" cy="28" r="17" fill="{line}"/>'
        '<text x="28" y="33.5" text-anchor="middle" font-family="system-ui, sans-serif" font-size="14" '
        f'font-weight="700" fill="#ffffff">{escape(initials(subject.brand or subject.title))}</text>'
        '<text x="100" y="182" text-anchor="middle" font-family="system-ui, sans-serif" font-size="12" '
        f'fill="{line}">{escape(caption(subject.title))}</text>'
        "</svg>"
    )
