"""Shopper input for the cart. Anything that is not a whole number from 1 to
the per-line limit gets one clear message; the services check it again."""
from django import forms

from .services import quantity_field_options


class LineQuantityForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form so that the limit follows the setting.
        self.fields["quantity"] = forms.IntegerField(**quantity_field_options())

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


class AddToCartForm(LineQuantityForm):
    product = forms.IntegerField(
        min_value=1, error_messages={code: "This product is not available." for code in ("required", "invalid", "min_value")}
    )
