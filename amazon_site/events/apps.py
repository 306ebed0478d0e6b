from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "amazon_site.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        from amazon_site.core import dashboard

        from . import selectors

        dashboard.register("Events", selectors.staff_dashboard, permission="events.view_outboxevent", position=30)
