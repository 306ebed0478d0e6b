"""Shopper and staff input for orders: addresses, the card, shipping details, returns.

Forms only check what was typed (a card as ``orders.cards`` says, as the API
does); ``orders.checkout`` and ``orders.fulfilment`` decide what may happen.
"""
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import cards, regions
from .models import ADDRESS_FIELDS, Address, ReturnReason
from .payments import Card


def _country_choices():
    return [("", "Choose your country")] + sorted(regions.COUNTRIES.items(), key=lambda choice: choice[1])


def _region_choices():
    """One list for every country that has regions, grouped by country; site.js shows the chosen country's group."""
    return [("", "Choose a state, province or territory")] + [
        (regions.country_name(country), list(names.items())) for country, names in regions.REGIONS.items()
    ]


class AddressForm(forms.ModelForm):
    """The address of checkout and of the address book: a country from the list, and its state where it has them.

    Both are plain text fields drawn as selects: the model's ``clean_fields``
    (``regions.clean_region``) is the region's one rule, so the page, the
    address book and the API give the same message for a bad pair.
    """

    country = forms.CharField(
        widget=forms.Select(choices=_country_choices, attrs={"autocomplete": "country"}),
        error_messages={"required": "Choose your country."},
    )
    region = forms.CharField(
        label="State, province or territory",
        required=False,
        help_text="For addresses in the United States, Canada and Australia.",
        widget=forms.Select(choices=_region_choices, attrs={"autocomplete": "address-level1", "data-regions": "country"}),
    )

    class Meta:
        model = Address
        fields = ADDRESS_FIELDS
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }

    def clean_country(self):
        # Checked here so that "USA" gets one message, not the length's as well.
        country = self.cleaned_data["country"].strip().upper()
        regions.validate_country(country)
        return country


class SavedAddressForm(forms.Form):
    address = forms.ModelChoiceField(
        queryset=Address.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose an address.", "invalid_choice": "Choose one of your addresses."},
    )

    def __init__(self, *args, addresses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = addresses


class _Unechoed(forms.TextInput):
    """A card detail is never written back into the page, not even after an error."""

    def format_value(self, value):
        return None


class PaymentForm(forms.Form):
    card_number = forms.CharField(
        max_length=30,
        widget=_Unechoed(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
        error_messages={"required": "Enter your card number."},
    )
    exp_month = forms.TypedChoiceField(
        label="Expiry month",
        coerce=int,
        choices=[(month, f"{month:02d}") for month in range(1, 13)],
        widget=forms.Select(attrs={"autocomplete": "cc-exp-month"}),
    )
    exp_year = forms.TypedChoiceField(label="Expiry year", coerce=int, widget=forms.Select(attrs={"autocomplete": "cc-exp-year"}))
    cvc = forms.RegexField(
        label="Security code (CVC)",
        regex=r"^\d{3,4}$",
        widget=_Unechoed(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "size": 4}),
        error_messages={"required": "Enter the security code.", "invalid": "The security code is 3 or 4 digits."},
    )
    # The one-time key of this form: submitting it twice places one order.
    checkout_key = forms.UUIDField(widget=forms.HiddenInput)
    # The total the shopper saw; the services refuse to charge a different one.
    expected_total = forms.DecimalField(max_digits=12, decimal_places=2, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form so the choices follow the calendar; the month left as
        # it is must not be past (a card is good through its expiry month).
        self.fields["exp_year"].choices = [(year, str(year)) for year in cards.expiry_years()]
        self.fields["exp_month"].initial = timezone.localdate().month

    def clean_card_number(self):
        return cards.clean_number(self.cleaned_data["card_number"])

    def clean(self):
        cleaned = super().clean()
        month, year = cleaned.get("exp_month"), cleaned.get("exp_year")
        if month and year:
            try:
                cards.check_not_expired(month, year)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def card(self) -> Card:
        data = self.cleaned_data
        return Card(number=data["card_number"], exp_month=data["exp_month"], exp_year=data["exp_year"], cvc=data["cvc"])


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=50)
    tracking_number = forms.CharField(max_length=64)


class ReturnForm(forms.Form):
    restockable = forms.BooleanField(required=False, initial=True, label="Goods can be sold again")


class RefuseReturnForm(forms.Form):
    note = forms.CharField(max_length=300, label="Why (the shopper reads this)")


class ReturnRequestForm(forms.Form):
    """The shopper's return: units per item (up to what may still go back), a reason, a comment."""

    reason = forms.ChoiceField(choices=[("", "Choose a reason")] + ReturnReason.choices)
    comment = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        for choice in choices:
            self.fields[f"item_{choice.item.pk}"] = forms.TypedChoiceField(
                label=choice.item.title, coerce=int, initial=0, required=False, empty_value=0,
                choices=[(units, str(units)) for units in range(choice.returnable + 1)],
            )

    def item_fields(self):
        return [self[f"item_{choice.item.pk}"] for choice in self.choices]

    def clean(self):
        data = super().clean()
        if not any(data.get(f"item_{choice.item.pk}") for choice in self.choices):
            raise ValidationError("Choose how many units of at least one item you are sending back.")
        return data

    def quantities(self) -> dict[int, int]:
        return {choice.item.pk: self.cleaned_data.get(f"item_{choice.item.pk}") or 0 for choice in self.choices}
