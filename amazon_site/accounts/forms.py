"""The sign-up form (Django's, with a required e-mail address) and the account page's forms."""
from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import selectors
from .services import EMAIL_TAKEN


class SignUpForm(UserCreationForm):
    # Not a model field of the form: the address is a claim until confirmed (accounts/models.py).
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="We send a link to confirm it; order mail goes only to a confirmed address.",
    )

    field_order = ["username", "email", "password1", "password2"]

    def clean_username(self):
        username = super().clean_username()
        # An "@" would make a username read as an address at log-in.
        if username and "@" in username:
            raise forms.ValidationError("A username cannot contain “@”; use letters, digits and . + - _ only.")
        return username

    def validate_password_for_user(self, user, password_field_name="password1"):
        # Under the password itself (Django puts them under its confirmation): that is the field to change.
        super().validate_password_for_user(user, password_field_name=password_field_name)

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if selectors.email_taken(email):
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email


class NameForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        help_text="We mail it a link; your current address stays until you open it.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if selectors.email_taken(email, exclude_user=self.user):
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email
