"""Orders, what they hold, how they were paid, and their tracking timeline.

``Order.status`` is a protected FSM field: it changes only through the
transition methods below, which ``orders.checkout`` and ``orders.fulfilment``
call inside a transaction together with everything a transition implies
(stock, refunds, the timeline, events). Every rule about statuses lives here,
next to them: which moves exist, who may cancel when, what counts as paid or
bought. Prices, addresses and titles are copied onto the order when it is
placed: later catalog edits never change what a shopper bought.
"""
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition


class Address(models.Model):
    """A shipping address a shopper saved, to be reused at the next checkout."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField(max_length=120)
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(
        max_length=12, validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,10}$", "Enter a valid postal code.")]
    )
    country = models.CharField(
        max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Use the two-letter country code, e.g. US.")]
    )
    phone = models.CharField(max_length=20, blank=True)
    # The one checkout offers first; at most one per shopper, which the database keeps.
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="address_one_default_per_user")
        ]

    def as_dict(self) -> dict:
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}

    def __str__(self):
        return ", ".join(part for part in (self.full_name, self.line1, self.city, self.country) if part)


ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


class Status(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PAID = "paid", "Paid"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"


# Paid and kept: pending orders may never be paid, cancelled ones were not
# bought, and returned ones were bought but not kept.
PAID_STATUSES = (Status.PAID, Status.PACKED, Status.SHIPPED, Status.DELIVERED)
# Bought: in an order not cancelled (a returned product was bought all the same).
NOT_BOUGHT_STATUSES = (Status.CANCELLED,)
# Shoppers may cancel until the parcel is packed; staff until it ships (the cancel transition's sources).
CUSTOMER_CANCELLABLE_STATUSES = (Status.PENDING, Status.PAID)
STAFF_CANCELLABLE_STATUSES = (Status.PENDING, Status.PAID, Status.PACKED)


class CancelReason(models.TextChoices):
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    CUSTOMER = "customer", "Cancelled by the customer"
    STAFF = "staff", "Cancelled by the store"


class ChargeState(models.TextChoices):
    """What the store knows of an order's charge, which a lost gateway answer leaves open.

    Only ``SETTLED`` orders are done with the gateway: the others may hold the
    shopper's money without a payment row, so settle_unfinished_checkouts asks
    the gateway about them, pending or cancelled.
    """

    SETTLED = "settled", "Settled: as the payments say (none: nothing charged)"
    CHARGING = "charging", "Checkout is charging the card"
    UNANSWERED = "unanswered", "The card processor did not answer"


# Charges checkout has not settled yet: the settling job asks the gateway about them.
UNSETTLED_CHARGE_STATES = (ChargeState.CHARGING, ChargeState.UNANSWERED)
# The store's one currency: the catalog's prices and every order's.
CURRENCY = "USD"


class Order(FSMModelMixin, models.Model):
    number = models.CharField(max_length=20, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = FSMField(default=Status.PENDING, choices=Status.choices, protected=True, db_index=True)
    # The one-time key of the checkout form: a second submission finds this order.
    checkout_key = models.UUIDField(unique=True)
    shipping_address = models.JSONField()
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default=CURRENCY)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    # Checkout places the order CHARGING; recording the gateway's answer settles it. The database
    # default too, for rows written without the ORM (the seeder's COPY).
    charge_state = models.CharField(
        max_length=10, choices=ChargeState.choices, default=ChargeState.SETTLED, db_default=ChargeState.SETTLED
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_newest"),
            # The staff dashboard's sales of the day and week, read from the index alone
            # (PostgreSQL; other databases get a plain index on created_at).
            models.Index(fields=["created_at"], include=["status", "total", "cancel_reason"], name="order_created_figures"),
            # The few orders whose charge is not settled, without reading the settled million.
            models.Index(fields=["created_at"], condition=Q(charge_state__in=UNSETTLED_CHARGE_STATES), name="order_charge_unsettled"),
        ]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative")]

    def __str__(self):
        return f"Order {self.number}"

    # Transitions only move the status; orders.checkout and orders.fulfilment do the rest.
    # What each transition did, for a message saying it cannot be done now.
    VERBS = {
        "pay": "paid", "pack": "packed", "ship": "shipped", "deliver": "delivered", "cancel": "cancelled", "return_": "returned",
    }

    def customer_can_cancel(self) -> bool:
        return self.status in CUSTOMER_CANCELLABLE_STATUSES

    @transition(field=status, source=Status.PENDING, target=Status.PAID)
    def pay(self):
        pass

    @transition(field=status, source=Status.PAID, target=Status.PACKED)
    def pack(self):
        pass

    @transition(field=status, source=Status.PACKED, target=Status.SHIPPED)
    def ship(self):
        pass

    @transition(field=status, source=Status.SHIPPED, target=Status.DELIVERED)
    def deliver(self):
        pass

    @transition(field=status, source=STAFF_CANCELLABLE_STATUSES, target=Status.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=Status.DELIVERED, target=Status.RETURNED)
    def return_(self):
        pass


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # Products are deactivated rather than deleted; the title is kept either way.
    product = models.ForeignKey("catalog.Product", null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=300)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    # Units taken per warehouse ({"warehouse id": units}), what a cancellation gives back.
    allocations = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive")]

    def __str__(self):
        return f"{self.quantity} × {self.title}"


class OrderEvent(models.Model):
    """One step of an order's tracking timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class Payment(models.Model):
    """One attempt to charge an order (or a refund of one), as the gateway answered it."""

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        DECLINED = "declined"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    gateway = models.CharField(max_length=30)
    reference = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Never the card number: only what a receipt shows.
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    message = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # One successful charge per order, whatever the retries.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="charge", outcome="succeeded"), name="payment_one_charge_per_order"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.outcome}"


class OutgoingMail(models.Model):
    """An order mail to send, written in the transaction of the move it tells of (see orders.emails).

    The row exists exactly when the move committed; a task sends it at once and
    a sweep sends what a broker outage left queued.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed", "Failed (gave up)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=20)  # the mail's name, a key of orders.emails.SUBJECTS
    # What the mail says beyond the order (the carrier and tracking number): JSON as it is, so what the
    # template renders is what was stored. A Decimal must come as a string.
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's scan and the command's counts, without reading the sent rows, nearly all of the table.
            models.Index(fields=["created_at"], condition=Q(status__in=("queued", "failed")), name="outgoing_mail_unsent"),
        ]

    def __str__(self):
        return f"{self.kind} mail of order {self.order_id} ({self.status})"
