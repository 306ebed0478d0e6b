"""Shopper input for the cart. Anything that is not a whole number from 1 (0
for a line's new quantity, which removes it) to the per-line limit gets one
clear message; the services check it again."""
from django import forms

from .services import quantity_field_options


class CartForm(forms.Form):
    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


class LineQuantityForm(CartForm):
    minimum = 0  # 0 removes the line

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form so that the limit follows the setting.
        self.fields["quantity"] = forms.IntegerField(**quantity_field_options(self.minimum))


class AddToCartForm(LineQuantityForm):
    minimum = 1
    product = forms.IntegerField(
        min_value=1, error_messages={code: "This product is not available." for code in ("required", "invalid", "min_value")}
    )


class ProductIdsField(forms.Field):
    """Every value of a repeated ``product`` field, as ints; ``services.add_bundle`` judges the list."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [int(product_id) for product_id in value or ()]
        except (TypeError, ValueError):
            raise forms.ValidationError("One of these products is not available.") from None


class UndoRemoveForm(CartForm):
    token = forms.CharField(max_length=500, error_messages={"required": "There is nothing to undo."})


class AddBundleForm(CartForm):
    product = ProductIdsField(required=False)  # none at all gets the service's message
