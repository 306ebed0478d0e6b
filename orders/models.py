"""Orders, what they hold, how they were paid and shipped, their returns, and their tracking timeline.

``Order.status`` is a protected FSM field: it changes only through the
transition methods below, which ``orders.checkout`` and ``orders.fulfilment``
call inside a transaction together with everything a transition implies
(stock, refunds, the timeline, events). Every rule about statuses lives here,
next to them: which moves exist, who may cancel when, what counts as paid or
bought. Prices, addresses and titles are copied onto the order when it is
placed: later catalog edits never change what a shopper bought.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from .regions import COUNTRIES, clean_region, validate_country


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
    country = models.CharField(max_length=2, validators=[validate_country], help_text="ISO 3166-1 alpha-2 code.")
    # ISO 3166-2 code ("US-WA"); required where ``regions.REGIONS`` lists the country's, else empty.
    region = models.CharField("state or region", max_length=6, blank=True, default="")
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

    def clean_fields(self, exclude=None):
        """The fields' checks, and the region's rule (``regions.clean_region``), which needs the country.

        Here rather than in ``clean`` so that a form whose country or region
        already failed (``exclude``) gets one message, not two.
        """
        exclude = set(exclude or ())
        errors = {}
        if not exclude & {"country", "region"} and self.country in COUNTRIES:
            try:
                self.region = clean_region(self.country, self.region)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
                exclude.add("region")
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def as_dict(self) -> dict:
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}

    def __str__(self):
        return ", ".join(part for part in (self.full_name, self.line1, self.city, self.country) if part)


ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "region", "phone")


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
        return self.status in CUSTOMER_CANCELLABLE_STATUSES and not self.shipments.exclude(status=ShipmentStatus.PENDING).exists()

    def nothing_shipped(self) -> bool:
        """A parcel on its way cannot be called back: an order with one is returned, not cancelled."""
        return not self.shipments.filter(status__in=SENT_SHIPMENT_STATUSES).exists()

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

    @transition(field=status, source=STAFF_CANCELLABLE_STATUSES, target=Status.CANCELLED, conditions=[nothing_shipped])
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


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", "Being prepared"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


SENT_SHIPMENT_STATUSES = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)


class Shipment(FSMModelMixin, models.Model):
    """One parcel of an order: the units one warehouse sends, packed and shipped on their own.

    Made when the order is paid, one per warehouse its units were taken from
    (the items' allocations). The order's status follows its parcels
    (``orders.shipments``): packed, shipped or delivered once all of them are.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    # None: units sold without a warehouse on record (orders written before shipments, or imported).
    warehouse = models.ForeignKey("catalog.Warehouse", null=True, on_delete=models.PROTECT, related_name="+")
    status = FSMField(default=ShipmentStatus.PENDING, choices=ShipmentStatus.choices, protected=True)
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    # Set when made, again when shipped; what the order page promises.
    estimated_delivery = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [
            # The staff dashboard's parcels waiting to be packed or shipped.
            models.Index(fields=["status"], condition=Q(status__in=["pending", "packed"]), name="shipment_waiting"),
        ]

    def __str__(self):
        return f"Parcel {self.pk} of order {self.order_id}"

    VERBS = {"pack": "packed", "ship": "shipped", "deliver": "delivered", "cancel": "cancelled"}

    @transition(field=status, source=ShipmentStatus.PENDING, target=ShipmentStatus.PACKED)
    def pack(self):
        pass

    @transition(field=status, source=ShipmentStatus.PACKED, target=ShipmentStatus.SHIPPED)
    def ship(self):
        pass

    @transition(field=status, source=ShipmentStatus.SHIPPED, target=ShipmentStatus.DELIVERED)
    def deliver(self):
        pass

    @transition(field=status, source=[ShipmentStatus.PENDING, ShipmentStatus.PACKED], target=ShipmentStatus.CANCELLED)
    def cancel(self):
        pass


class ShipmentLine(models.Model):
    """Units of one order item in one parcel."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_quantity_positive")]


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved: send it back"
    REFUSED = "refused", "Refused"
    RECEIVED = "received", "Received and refunded"


# Returns staff still have to act on: decide, or receive.
WAITING_RETURN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
# Returns whose units are on their way back or back: a refused one leaves its units with the shopper.
LIVE_RETURN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", "Arrived damaged or faulty"
    WRONG_ITEM = "wrong_item", "Not what I ordered"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    UNWANTED = "unwanted", "No longer needed"
    OTHER = "other", "Other"


class Return(FSMModelMixin, models.Model):
    """Units of a delivered order a shopper sends back, and the refund for them (``orders.returns``)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = FSMField(default=ReturnStatus.REQUESTED, choices=ReturnStatus.choices, protected=True)
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    comment = models.CharField(max_length=500, blank=True)
    staff_note = models.CharField(max_length=300, blank=True)
    # Set when received: what the gateway gave back, and whether the units could be sold again.
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    restocked = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The dashboard's returns waiting, without reading the ones done.
            models.Index(fields=["created_at"], condition=Q(status__in=["requested", "approved"]), name="return_waiting"),
        ]

    def __str__(self):
        return f"Return {self.pk} of order {self.order_id}"

    VERBS = {"approve": "approved", "refuse": "refused", "receive": "received"}

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REFUSED)
    def refuse(self):
        pass

    # Staff may receive a parcel that came back before they approved it.
    @transition(field=status, source=WAITING_RETURN_STATUSES, target=ReturnStatus.RECEIVED)
    def receive(self):
        pass


class ReturnLine(models.Model):
    """Units of one order item in a return, and the warehouse they go back to."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="return_lines")
    warehouse = models.ForeignKey("catalog.Warehouse", null=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="return_line_quantity_positive")]


class OrderEvent(models.Model):
    """One step of an order's tracking timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A step that is not a change of status ("Partly shipped", "Return requested"); blank: the status names it.
    title = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"

    @property
    def heading(self) -> str:
        return self.title or self.get_to_status_display()


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
