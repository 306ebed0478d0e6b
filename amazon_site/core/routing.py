"""Which database a query goes to: a read replica for browsing, the primary for everything else.

Only reads that tolerate a little lag go to a replica: the catalog's pages
and its read-only API (``REPLICA_READ_VIEWS``), for GET and HEAD. A cart,
checkout, account, staff page, task or command never reads from one: what
they read decides what they write. The rule lives here, in one place, and
not in the views.

A shopper reads their own writes: any POST, PUT, PATCH or DELETE sets a
short cookie, and while it lasts their pages read from the primary too. A
replica that lags or does not answer is skipped (``replicas.py``); with none
usable, reads go to the primary. A replica lost in the middle of a page is
skipped too, and the page read again from the primary.

Raw SQL in a browse read path asks ``read_alias()`` for its connection; the
ORM asks the router.
"""
import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError

from . import replicas

# The catalog's browse pages (catalog/urls.py), by URL name: the same for every anonymous visitor.
BROWSE_PAGES = frozenset({"home", "category", "product", "product-short", "search"})
# Those, and the catalog's other read-only answers. "Recommended for you"
# is not here: it reads the shopper's own orders.
REPLICA_READ_VIEWS = BROWSE_PAGES | frozenset(
    {
        "search-suggest",
        "product-image",
        "api-search",
        "api-search-suggest",
        "api-products",
        "api-product",
        "api-product-recommendations",
        "api-product-bought-together",
    }
)
PRIMARY_COOKIE = "primary_reads"
SAFE_METHODS = frozenset({"GET", "HEAD"})

# While a browse page is served: a dict holding the replica it reads from,
# picked at its first read, so that one page reads one copy.
_replica_reads = contextvars.ContextVar("replica_reads", default=None)


def read_alias() -> str:
    """The connection this request's reads use: a usable replica while a browse page is served, else the primary."""
    chosen = _replica_reads.get()
    if chosen is None:
        return DEFAULT_DB_ALIAS
    if "alias" not in chosen:
        chosen["alias"] = replicas.pick() or DEFAULT_DB_ALIAS
    return chosen["alias"]


# Read from the primary even on a browse page: a session read from a replica
# that has not caught up would be written back without the shopper's cart.
PRIMARY_ONLY_MODELS = frozenset({"sessions.session"})


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.label_lower in PRIMARY_ONLY_MODELS:
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, whichever copy a row was read from

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas follow the primary's schema by replication


class ReplicaReadsMiddleware:
    """Browse pages read from a replica unless this shopper wrote in the last few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        finally:
            # Set by process_view, so for the view and the template it renders, and gone before the next request.
            token = request.__dict__.pop("_replica_reads_token", None)
            if token is not None:
                _replica_reads.reset(token)
        if request.method not in SAFE_METHODS:
            response.set_cookie(
                PRIMARY_COOKIE,
                "1",
                max_age=settings.DATABASE_PRIMARY_AFTER_WRITE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method in SAFE_METHODS
            and request.resolver_match.url_name in REPLICA_READ_VIEWS
            and PRIMARY_COOKIE not in request.COOKIES
        ):
            request._replica_reads_token = _replica_reads.set({})
            request._replica_view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request, exception):
        """A replica lost mid-page: skip it from now on and serve the page from the primary (it only read)."""
        chosen = _replica_reads.get()
        alias = chosen.get("alias", DEFAULT_DB_ALIAS) if chosen is not None else DEFAULT_DB_ALIAS
        if alias == DEFAULT_DB_ALIAS or not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        replicas.mark_unusable(alias, exception)
        chosen["alias"] = DEFAULT_DB_ALIAS
        view_func, view_args, view_kwargs = request._replica_view
        return view_func(request, *view_args, **view_kwargs)
