"""The review form. It checks what was typed; whether the shopper may review
at all is ``catalog.reviews.services.add_review``'s to decide."""
from django import forms

from .models import Review

RATING_CHOICES = [("", "Choose a rating"), (5, "5 stars"), (4, "4 stars"), (3, "3 stars"), (2, "2 stars"), (1, "1 star")]


class ReviewForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=RATING_CHOICES,
        error_messages={
            "required": "Choose a rating from 1 to 5 stars.",
            "invalid_choice": "Choose a rating from 1 to 5 stars.",
        },
    )

    class Meta:
        model = Review
        fields = ("rating", "title", "body")
        labels = {"title": "Title (optional)", "body": "Your review"}
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "Sum it up in a few words"}),
            "body": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {
            "body": {
                "required": "Write a few words about the product.",
                "max_length": "Keep your review under %(limit_value)d characters (it has %(show_value)d).",
            },
            "title": {"max_length": "Keep the title under %(limit_value)d characters (it has %(show_value)d)."},
        }
