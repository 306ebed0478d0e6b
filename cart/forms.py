"""Shopper input for the cart. Anything that is not a whole number from 1 to
the per-line limit gets one clear message; the services check it again."""
from django import forms
from django.conf import settings

from .services import quantity_error


class QuantityField(forms.IntegerField):
    def __init__(self, **kwargs):
        message = quantity_error()
        super().__init__(
            min_value=1,
            max_value=settings.CART_MAX_LINE_QUANTITY,
            error_messages={code: message for code in ("required", "invalid", "min_value", "max_value")},
            **kwargs,
        )


class LineQuantityForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form so that the limit follows the setting.
        self.fields["quantity"] = QuantityField()

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


class AddToCartForm(LineQuantityForm):
    product = forms.IntegerField(
        min_value=1, error_messages={code: "This product is not available." for code in ("required", "invalid", "min_value")}
    )
