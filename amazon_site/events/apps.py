from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "amazon_site.events"
    label = "events"
    verbose_name = "Events"
