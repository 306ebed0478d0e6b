"""Every write to carts, each in one transaction: add (one product or a bundle), set a quantity, remove, empty, merge, sell.

Each operation locks in the one lock order of ``catalog/stock.py``'s
docstring; ``unit_of_work.Work`` takes the cart's steps of it and runs the
statements.

Visitors' carts (no account) with a recorded client hold for
``CART_ANON_RESERVATION_MINUTES``, and together hold at most
``CART_MAX_HELD_UNITS_PER_CLIENT`` unexpired units per client: a script
cannot keep a product sold out for free. Accounts' carts hold for
``CART_RESERVATION_MINUTES``, uncapped. A change to a cart keeps its stock
held: it extends the cart's reservations, except a visitor's lapsed ones,
which are released and taken again within the cap.

Whatever the order of events, each inventory row's ``reserved`` equals the
sum of its reservation rows.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection

from amazon_site.core.ids import is_id
from catalog import stock as stock_api

from . import clients
from .errors import CartError, CartErrorCode
from .models import Cart
from .selectors import CART_SESSION_KEY, uses_session
from .unit_of_work import Work, cart_transaction, product_for_sale


@dataclass(frozen=True)
class LineChange:
    """What a change did to one line, for the message the shopper sees."""

    title: str
    requested: int  # units asked to add, or the quantity asked for
    added: int  # units newly reserved by this change
    quantity: int  # the line's quantity afterwards; 0 when the line is gone
    limited: bool = False  # the per-line limit cut the request
    short: bool = False  # there was not enough stock for the request
    held_cap: bool = False  # the cap on units a visitor's carts hold together cut the request
    product_id: int | None = None
    before: int = 0  # the line's quantity before the change: what an undo of a removal puts back


@dataclass(frozen=True)
class MergeResult:
    cart_id: int | None
    reduced: list[LineChange] = field(default_factory=list)  # lines kept below the combined quantity


@dataclass(frozen=True)
class SoldLine:
    product_id: int
    title: str
    quantity: int
    price_when_added: Decimal | None  # None for lines from before prices were kept
    price: Decimal  # the product's price as the sale was made, read under the same locks
    allocations: list  # [catalog.stock.Allocation]: units sold per warehouse


def quantity_error(minimum=1) -> str:
    return f"Quantity must be a whole number from {minimum} to {settings.CART_MAX_LINE_QUANTITY}."


def quantity_field_options(minimum=1) -> dict:
    """The quantity rule as options of an integer field: the cart forms' and the API serializers' one definition.

    ``minimum`` is 1 for an add and 0 for a line's new quantity (0 removes
    it). Django's and DRF's ``IntegerField`` take the same options; each
    ignores the error codes only the other has. Built per call so the limit
    follows the setting.
    """
    message = quantity_error(minimum)
    return {
        "min_value": minimum,
        "max_value": settings.CART_MAX_LINE_QUANTITY,
        "error_messages": {code: message for code in ("required", "null", "invalid", "min_value", "max_value")},
    }


def validate_quantity(quantity, minimum=1) -> int:
    """The same rule for callers of the services, which get no form: whole numbers only."""
    # bool is an int subclass; True is not a quantity.
    if type(quantity) is not int or not minimum <= quantity <= settings.CART_MAX_LINE_QUANTITY:
        raise CartError(quantity_error(minimum), CartErrorCode.INVALID_QUANTITY)
    return quantity


def get_or_create_cart(*, user=None, cart_id=None, client="") -> Cart:
    """The visitor's cart: the account's for a signed-in user, else the session's.

    A new visitor's cart records ``client`` (``cart.clients.client_key``), which
    caps what that client's carts hold together.
    """
    if user is not None:
        return Cart.objects.get_or_create(user=user)[0]
    if cart_id is not None and (cart := Cart.objects.filter(pk=cart_id, user=None).first()):
        return cart
    return Cart.objects.create(client=client)


def visitor_cart_id_or_create(request) -> int:
    """The visitor's cart (``selectors.visitor_cart_id``), created at the first add and kept in the session."""
    from_session = uses_session(request)
    cart = get_or_create_cart(
        user=request.user if request.user.is_authenticated else None,
        cart_id=request.session.get(CART_SESSION_KEY) if from_session else None,
        client=clients.client_key(request),
    )
    if from_session:
        request.session[CART_SESSION_KEY] = cart.pk
    return cart.pk


def add_to_cart(cart_id, product_id, quantity, *, now=None) -> LineChange:
    """Add units of a product, reserving them; takes what stock allows up to the line limit."""
    quantity = validate_quantity(quantity)
    if type(product_id) is not int or not is_id(product_id):  # ints only: forms and the API convert
        raise CartError("This product is not available.", CartErrorCode.NOT_AVAILABLE)
    with cart_transaction():
        found = product_for_sale(product_id)
        if found is None:
            raise CartError("This product is not available.", CartErrorCode.NOT_AVAILABLE)
        work = Work.open([cart_id], now)
        work.lock_stock([product_id])
        return _add_units(work, cart_id, product_id, *found, quantity)


# The product page's "Frequently bought together": the product and its two complements.
BUNDLE_MAX_PRODUCTS = 3


def add_bundle(cart_id, product_ids, *, now=None) -> list[LineChange]:
    """Add one unit of each product in one transaction; returns one change per product, in the order given.

    Each product is reserved as far as stock (and a visitor's cap) allows,
    exactly as ``add_to_cart`` would take it: one product out of stock does
    not keep the others out of the cart, and its change says why (``short``,
    ``held_cap``, ``limited``). A request the bundle cannot be, no product, a
    product twice, more than ``BUNDLE_MAX_PRODUCTS``, or a product not for
    sale, is refused whole before anything is written.
    """
    if not isinstance(product_ids, (list, tuple)) or not product_ids:
        raise CartError("Choose the products to add.", CartErrorCode.INVALID_BUNDLE)
    if len(product_ids) > BUNDLE_MAX_PRODUCTS:
        raise CartError(f"At most {BUNDLE_MAX_PRODUCTS} products can be added at once.", CartErrorCode.INVALID_BUNDLE)
    if any(type(product_id) is not int or not is_id(product_id) for product_id in product_ids):
        raise CartError("One of these products is not available.", CartErrorCode.NOT_AVAILABLE)
    if len(set(product_ids)) < len(product_ids):
        raise CartError("Each product can be added only once.", CartErrorCode.INVALID_BUNDLE)
    with cart_transaction():
        found = [product_for_sale(product_id) for product_id in product_ids]
        if None in found:
            raise CartError("One of these products is not available.", CartErrorCode.NOT_AVAILABLE)
        work = Work.open([cart_id], now)
        work.lock_stock(product_ids)  # all of them in one call: the lock order
        changes = []
        for product_id, (title, price) in zip(product_ids, found):
            # ``cut`` stays set once the cap cut a take; each change reports its own.
            work.cut = False
            changes.append(_add_units(work, cart_id, product_id, title, price, 1))
        return changes


def _add_units(work, cart_id, product_id, title, price, quantity) -> LineChange:
    """Reserve ``quantity`` more of a product for its line, under the locks ``work`` took (its stock included)."""
    line = work.line_for_product(cart_id, product_id)
    current = line.quantity if line else 0
    target = min(current + quantity, settings.CART_MAX_LINE_QUANTITY)
    holding = line.held if line else 0
    wanted = max(target - holding, 0)
    allocations = work.take(cart_id, product_id, wanted)
    added = sum(allocation.quantity for allocation in allocations)
    if added:
        if line is None:
            line = work.create_line(cart_id, product_id, title, price, added)
        else:
            # A short line holds less than its quantity; the shopper's add
            # settles it at what is now held.
            line.quantity = holding + added
            work.save_quantity(line)
        work.hold(line, allocations)
    return LineChange(
        title=title,
        requested=quantity,
        added=added,
        quantity=line.quantity if line else 0,
        limited=current + quantity > settings.CART_MAX_LINE_QUANTITY,
        short=added < wanted and not work.cut,
        held_cap=work.cut,
        product_id=product_id,
        before=current,
    )


def set_quantity(cart_id, line_id, quantity, *, now=None) -> LineChange:
    """Change a line to ``quantity``: releases exactly the surplus, or reserves what stock allows.

    0 removes the line, as the shop's quantity boxes do elsewhere: the shopper
    who types 0 means "none of these", not a mistake.
    """
    quantity = validate_quantity(quantity, minimum=0)
    with cart_transaction():
        work = Work.open([cart_id], now, missing_ok=True)
        line = work.line(line_id)
        work.lock_stock([line.product_id])
        before = line.quantity
        holding = line.held
        added = 0
        if quantity < holding:
            work.release_from(line, holding - quantity)
        elif quantity > holding:
            if not line.is_active:
                raise CartError(
                    "This product is no longer available; you can only lower the quantity or remove it.",
                    CartErrorCode.NOT_AVAILABLE,
                )
            allocations = work.take(cart_id, line.product_id, quantity - holding)
            added = sum(allocation.quantity for allocation in allocations)
            work.hold(line, allocations)
        line.quantity = line.held
        work.save_quantity(line)
        return LineChange(
            title=line.title,
            requested=quantity,
            added=added,
            quantity=line.quantity,
            short=line.quantity < quantity and not work.cut,
            held_cap=work.cut,
            product_id=line.product_id,
            before=before,
        )


def remove_line(cart_id, line_id, *, now=None) -> LineChange:
    """Remove a line, releasing what it holds: its quantity set to 0. ``before`` is what an undo puts back."""
    return set_quantity(cart_id, line_id, 0, now=now)


def restore_line(cart_id, product_id, quantity, *, now=None) -> LineChange:
    """Undo a removal: bring the product's line back up to ``quantity``, reserving as far as stock allows.

    Never above it, so an undo sent twice (a double click, the back button)
    finds the line back already and adds nothing; the cart lock orders two
    at once. ``short`` says that less came back.
    """
    quantity = validate_quantity(quantity)
    if type(product_id) is not int or not is_id(product_id):
        raise CartError("This product is not available.", CartErrorCode.NOT_AVAILABLE)
    with cart_transaction():
        found = product_for_sale(product_id)
        if found is None:
            raise CartError("This product is no longer sold, so it could not be put back.", CartErrorCode.NOT_AVAILABLE)
        work = Work.open([cart_id], now)
        work.lock_stock([product_id])
        line = work.line_for_product(cart_id, product_id)
        current = line.quantity if line else 0
        if current >= quantity:
            return LineChange(
                title=found[0], requested=0, added=0, quantity=current, product_id=product_id, before=current
            )
        return _add_units(work, cart_id, product_id, *found, quantity - current)


def empty_cart(cart_id, *, now=None) -> None:
    with cart_transaction():
        work = Work.open([cart_id], now)
        lines = list(work.lines.values())
        work.lock_stock([line.product_id for line in lines])
        for line in lines:
            work.release_from(line, line.held)
            work.delete_line(line)


def merge_carts(*, source_cart_id, user, now=None) -> MergeResult:
    """Fold a visitor's cart into the account's at log-in.

    Quantities add up within the per-line limit; the reservations move with
    their lines, so stock held before log-in stays held.
    """
    with cart_transaction():
        source = Cart.objects.filter(pk=source_cart_id, user=None).first() if source_cart_id else None
        if source is None:
            return MergeResult(Cart.objects.filter(user=user).values_list("pk", flat=True).first())
        target = Cart.objects.get_or_create(user=user)[0]
        work = Work.open([source.pk, target.pk], now, missing_ok=True)
        if source.pk not in work.carts:  # merged by a concurrent log-in
            return MergeResult(target.pk)
        moving = [line for line in work.lines.values() if line.cart_id == source.pk]
        work.lock_stock([line.product_id for line in moving])
        reduced = []
        for line in moving:
            kept = work.line_for_product(target.pk, line.product_id)
            asked = line.quantity + (kept.quantity if kept else 0)
            kept = work.move(line, target.pk, into=kept)
            wanted = min(asked, settings.CART_MAX_LINE_QUANTITY)
            if kept.held > wanted:
                work.release_from(kept, kept.held - wanted)
            kept.quantity = min(wanted, kept.held)
            work.save_quantity(kept)
            if kept.quantity < asked:
                reduced.append(
                    LineChange(
                        title=kept.title,
                        requested=asked,
                        added=0,
                        quantity=kept.quantity,
                        limited=asked > settings.CART_MAX_LINE_QUANTITY,
                        short=kept.quantity < wanted,
                    )
                )
        source.delete()
        return MergeResult(target.pk, reduced)


def sell_cart(cart_id, *, now=None) -> list[SoldLine]:
    """Checkout's part of the cart: sell what every line holds and empty the cart.

    Runs inside checkout's transaction, which places the order with it. Lines
    whose reservation lapsed are filled again under the stock lock first; if a
    line is still short, or its product gone, nothing is sold and the
    ``CartError`` names the lines to fix.
    """
    if not connection.in_atomic_block:
        raise CartError("A cart can only be sold inside the checkout's transaction.", CartErrorCode.NOT_IN_TRANSACTION)
    work = Work.open([cart_id], now, missing_ok=True)
    lines = sorted(work.lines.values(), key=lambda line: line.id)
    if not lines:
        raise CartError("Your cart is empty.", CartErrorCode.EMPTY)
    work.lock_stock([line.product_id for line in lines])
    blocked = [line.title for line in lines if not line.is_active or line.held < line.quantity]
    if blocked:
        raise CartError(
            f"Not enough stock any more for: {', '.join(blocked)}. Please adjust your cart.",
            CartErrorCode.OUT_OF_STOCK,
            blocked,
        )
    sold = []
    for line in lines:
        allocations = [stock_api.Allocation(row.warehouse_id, row.quantity) for row in line.rows.values()]
        stock_api.sell(work.stock, line.product_id, allocations)
        sold.append(SoldLine(line.product_id, line.title, line.quantity, line.unit_price, line.price, allocations))
    work.drop_sold()
    return sold
