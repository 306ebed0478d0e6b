"""The staff dashboard on the admin index: figures each app contributes about its own domain.

The admin site lives in ``amazon_site``, below every app, so it cannot import
their selectors. Each app registers its panel here when it loads
(``AppConfig.ready``) and the admin index shows the panels of the apps the
staff member may view. A figure links to the admin change list it counts.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse

# Counts stop here: a backlog's exact size past it matters less than reading all of it.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Figure:
    label: str
    value: str  # formatted for the page: "1,234", "10,000+", "1,234.50"
    url: str  # the admin change list showing what is counted
    attention: bool = False  # something is waiting for staff


@dataclass(frozen=True)
class Panel:
    title: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class _Registration:
    title: str
    permission: str  # "app_label.view_model": who may see the panel
    figures: Callable[[], list[Figure]]
    position: int  # panels show lowest first


_registered: dict[str, _Registration] = {}


def register(title: str, figures: Callable[[], list[Figure]], *, permission: str, position: int) -> None:
    """Add (or replace, on a second ``ready()``) the panel called ``title``."""
    _registered[title] = _Registration(title, permission, figures, position)


def panels_for(user) -> list[Panel]:
    """The panels ``user`` may see, their figures read now."""
    entries = sorted(_registered.values(), key=lambda entry: entry.position)
    return [Panel(entry.title, tuple(entry.figures())) for entry in entries if user.has_perm(entry.permission)]


def counted(label: str, queryset, url: str, *, cap: int = COUNT_CAP) -> Figure:
    """A figure counting rows that wait for staff, read no further than ``cap`` ("10,000+").

    The queryset is counted as ordered: clear a default ordering the index
    cannot give, or the database sorts every row before the limit.
    """
    found = queryset[: cap + 1].count()
    return Figure(label, f"{cap:,}+" if found > cap else f"{found:,}", url, attention=found > 0)


def changelist(model, **params) -> str:
    """The admin change list of ``model``, filtered by ``params`` (lookups the change list accepts)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: the store's days and weeks are UTC ones."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(now: datetime) -> datetime:
    """Monday, midnight UTC, of ``now``'s week."""
    today = day_start(now)
    return today - timedelta(days=today.weekday())
