"""What the browser tests share: a small seeded catalog and the shopper's steps."""
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, BrandFactory, InventoryFactory, ProductFactory, category_tree

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
ORDER_NUMBER = re.compile(r"^\d{3}-\d{7}-\d{7}$")


@dataclass
class Catalog:
    products: dict  # title -> Product


def seed_catalog(extra=()) -> Catalog:
    """Two departments, three brands, a handful of stocked products whose titles search finds.

    ``extra`` is (title, units in stock) for more Home products (0 for sold out).
    """
    categories = category_tree()
    audio, cables, home = categories["headphones"], categories["cables"], categories["home-kitchen"]
    acme = BrandFactory(name="Acme", slug="acme")
    sonic = BrandFactory(name="Sonic", slug="sonic")
    hearth = BrandFactory(name="Hearth", slug="hearth")
    rows = [
        ("Acme Wireless Headphones", audio, acme, "59.00", 12),
        ("Sonic Studio Headphones", audio, sonic, "89.00", 12),
        ("Sonic Travel Headphones", audio, sonic, "45.50", 12),
        ("Acme Headphone Extension Cable", cables, acme, "9.99", 12),
        ("Hearth Espresso Machine", home, hearth, "129.00", 12),
        *((title, home, hearth, "24.00", units) for title, units in extra),
    ]
    products = {}
    for title, category, brand, price, units in rows:
        product = ProductFactory(
            title=title, category=category, brand=brand, price=Decimal(price),
            description=f"{title}: a product of the end-to-end test catalog.",
            rating=Decimal("4.5"), review_count=120,
        )
        if units:
            InventoryFactory(product=product, quantity=units)
        products[title] = product
    return Catalog(products)


def cart_link(page: Page, count: int):
    """The header's cart link, which names its item count for screen readers too."""
    return page.get_by_role("link", name=f"Cart, {count} item{'' if count == 1 else 's'}", exact=True)


def message(page: Page, text: str):
    return page.locator(".messages .message").filter(has_text=text)


def add_to_cart(page: Page, product, quantity: int):
    page.goto(product.get_absolute_url())
    page.get_by_label("Quantity").select_option(str(quantity))
    page.get_by_role("button", name="Add to cart").click()


def log_in(page: Page, user):
    """Fill the log-in form the page is on (a redirect from checkout keeps ?next=)."""
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def fill_address(page: Page):
    expect(page.get_by_role("heading", name="Where should we send your order?")).to_be_visible()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill("1 Analytical Way")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("Country").select_option("GB")  # a select: no state or region for the UK
    page.get_by_role("button", name="Save and deliver here").click()
    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()


def fill_card(page: Page, card: str):
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry month").select_option(label="12")
    page.get_by_label("Expiry year").select_option(str(timezone.localdate().year + 1))
    page.get_by_label("Security code (CVC)").fill("123")


# --- probes -----------------------------------------------------------------

CONTROLS = "input:not([type=hidden]), select, textarea, button, a[href]"


def unnamed_controls(page: Page) -> list[str]:
    """Rendered inputs, selects, text areas, buttons and links without an accessible name.

    The names are the ones Chromium computes for its accessibility tree (labels,
    aria-label, aria-labelledby, title, content), read over the DevTools protocol;
    controls the tree ignores (not rendered) are skipped.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        found = cdp.send("Runtime.evaluate", {"expression": f"[...document.querySelectorAll({CONTROLS!r})]"})
        elements = [
            prop["value"]["objectId"]
            for prop in cdp.send("Runtime.getProperties", {"objectId": found["result"]["objectId"], "ownProperties": True})["result"]
            if prop["name"].isdigit()
        ]
        problems = []
        for object_id in elements:
            nodes = cdp.send("Accessibility.getPartialAXTree", {"objectId": object_id, "fetchRelatives": False})["nodes"]
            ax = nodes[0] if nodes else {"ignored": True}
            if ax.get("ignored"):
                continue
            name = (ax.get("name") or {}).get("value", "")
            if not str(name).strip():
                html = cdp.send("DOM.getOuterHTML", {"objectId": object_id})["outerHTML"]
                problems.append(f"{page.url}: {' '.join(html.split())[:160]}")
        return problems
    finally:
        cdp.detach()


def horizontal_overflow(page: Page, width: int, tolerance: int = 1) -> dict | None:
    """None when nothing is wider than ``width`` CSS pixels; else the widths and the elements sticking out.

    ``width`` is the screen's, not ``window.innerWidth``: a mobile browser widens
    its layout viewport to fit content that is too wide, and innerWidth with it.
    """
    return page.evaluate(
        """([width, tolerance]) => {
            const scroll = document.documentElement.scrollWidth;
            if (scroll <= width + tolerance) return null;
            const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.classList.length ? '.' + [...el.classList].join('.') : '');
            const right = (el) => el.getBoundingClientRect().right;
            const wide = [...document.querySelectorAll('body *')]
                .filter((el) => right(el) > width + tolerance)
                // the innermost culprits: drop an element when one of its children sticks out too
                .filter((el) => ![...el.children].some((child) => right(child) > width + tolerance))
                .slice(0, 10)
                .map((el) => `${describe(el)} (right edge ${Math.round(right(el))}px)`);
            return {screen: width, scrollWidth: scroll, innerWidth: window.innerWidth, elements: wide};
        }""",
        [width, tolerance],
    )
