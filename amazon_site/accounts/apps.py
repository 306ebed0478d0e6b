from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Shoppers' accounts beyond Django's auth: their API tokens follow their passwords."""

    name = "amazon_site.accounts"
    label = "accounts"

    def ready(self):
        from . import tokens

        tokens.connect()
