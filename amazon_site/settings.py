"""Settings for the store.

One code base: every external service has an embedded default so the store
runs on a bare machine, and an environment variable that switches it to the
real service (see the README's "Configuration" table).
"""
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for local development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First: its registration/ pages (log-in, sign-up, log-out, password reset) win over the admin's.
    "amazon_site.accounts",
    "amazon_site.accounts.admin_site.StoreAdminConfig",  # Django's admin, its log-in under the site's limits
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "amazon_site.events",
    "catalog",
    "django_elasticsearch_dsl",
    "cart",
    "orders",
    "catalog.reviews",
    "recommendations",
    "django_prometheus",
]

MIDDLEWARE = [
    # First and last: django-prometheus times the whole request (see docs/operating.md).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id on every log line and response (X-Request-ID), redirects included.
    "amazon_site.core.middleware.RequestIdMiddleware",
    # Browse pages kept for anonymous visitors, served stale while the database is unreachable.
    "amazon_site.core.stale_pages.StalePagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "amazon_site.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store for signed-in users and the cart and checkout.
    "amazon_site.core.private_responses.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Without a broker there is no beat: requests release expired holds (on only then).
    "cart.middleware.ReleaseExpiredReservationsMiddleware",
    # With DEBUG on: the store's 404 page, not Django's technical one (which the CSP leaves unstyled).
    "amazon_site.core.site_pages.StoreNotFoundPageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "amazon_site.urls"
WSGI_APPLICATION = "amazon_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog.context_processors.navigation",
                "cart.context_processors.header_cart",
            ],
        },
    },
]

# --- Database: SQLite under var/ by default, PostgreSQL via DATABASE_URL ---
# DATABASE_URL may name several hosts (libpq's multi-host form, with
# ?target_session_attrs=read-write): a new connection then finds the primary
# after a failover, without a restart (see the README, "Running on several machines").
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured(
        f"DATABASE_POOLER is {DATABASE_POOLER!r}: leave it unset for direct connections, or set it to "
        "'pgbouncer' when DATABASE_URL points at PgBouncer in transaction mode."
    )


def _database(url):
    config = env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return config
    # Persistent connections, checked before reuse so a restarted server
    # costs one failed check instead of a failed request.
    config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    options = config.setdefault("OPTIONS", {})
    if DATABASE_POOLER:
        # PgBouncer refuses startup options and hands each transaction any server
        # connection: its connect_query sets jit and the statement timeout, and a
        # named cursor (which outlives its transaction) is never opened.
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # JIT compilation costs tens of milliseconds per query and pays off only
        # for long analytical queries, which a store does not serve.
        # A statement running longer than DB_STATEMENT_TIMEOUT_MS is cancelled, so one
        # slow query cannot pin a worker; the nightly recommendations job and the
        # seeders lift it for themselves (statement_timeout = 0; see docs/operating.md, "Statement timeout").
        options["options"] = f"-c jit=off -c statement_timeout={env.int('DB_STATEMENT_TIMEOUT_MS', default=15000)}"
    # Seconds to wait for a connection (libpq's minimum is 2): a dead server fails fast.
    options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    return config


DATABASES = {"default": _database(env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    VAR_DIR.mkdir(exist_ok=True)
    # Wait for a writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# Read replicas (PostgreSQL streaming standbys), separated by spaces: browse pages
# read from them, everything else from the primary (amazon_site/core/routing.py).
DATABASE_REPLICA_URLS = env.str("DATABASE_REPLICA_URLS", default="").split()
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    # In tests a replica is the test database itself, under another connection.
    DATABASES[f"replica{_number}"] = {**_database(_url), "TEST": {"MIRROR": "default"}}
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["amazon_site.core.routing.PrimaryReplicaRouter"]
    # Marks the browse pages that read from a replica, and the shoppers who just wrote.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "amazon_site.core.routing.ReplicaReadsMiddleware",
    )
# A replica further behind the primary than this is skipped until it catches up.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=10.0)
# How often each process asks a replica for its lag (a refused one is asked again as often).
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=2.0)
# After a shopper's write (any POST, PUT, PATCH or DELETE), their reads go to the
# primary this long, so they see what they just did (a cookie, see routing.py).
DATABASE_PRIMARY_AFTER_WRITE_SECONDS = env.int("DATABASE_PRIMARY_AFTER_WRITE_SECONDS", default=10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions: local memory by default, Valkey via VALKEY_URL ---
VALKEY_URL = env.str("VALKEY_URL", default="")
# Sentinels watching Valkey ("host:port host:port"); VALKEY_URL's host is then the
# service name the sentinels know (redis://store/0), and a failover is followed.
VALKEY_SENTINELS = env.str("VALKEY_SENTINELS", default="").split()
if VALKEY_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": VALKEY_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A cache outage degrades to cache misses, never to an error page.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
            "KEY_PREFIX": "store",
        }
    }
    if VALKEY_SENTINELS:
        try:
            _sentinels = [(host, int(port)) for host, port in (entry.rsplit(":", 1) for entry in VALKEY_SENTINELS)]
        except ValueError:
            raise ImproperlyConfigured(
                f"VALKEY_SENTINELS is {' '.join(VALKEY_SENTINELS)!r}: it lists sentinels as host:port, "
                "separated by spaces (127.0.0.1:26379 127.0.0.1:26380)."
            ) from None
        # Reads and writes both go to the primary: a replica could answer a read
        # with an entry that a commit has just dropped (amazon_site/core/cache.py).
        CACHES["default"]["LOCATION"] = [VALKEY_URL + ("&" if "?" in VALKEY_URL else "?") + "is_master=1"]
        CACHES["default"]["OPTIONS"].update(
            CLIENT_CLASS="django_redis.client.SentinelClient",
            SENTINELS=_sentinels,
            SENTINEL_KWARGS={"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        )
        DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    # Sessions are read from Valkey and written through to the database, so a
    # Valkey outage does not log everybody out.
    SESSION_ENGINE = "amazon_site.core.sessions"  # cached_db, kept in Valkey alone while the database is down
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Background jobs: eager in-process by default, a broker via CELERY_BROKER_URL ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks still take a producer from Celery's pool: in memory, not an
    # AMQP connection to localhost (never opened, but warned about in every process).
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
# Autodiscovery imports tasks modules only; the mail tasks live next to the mails.
CELERY_IMPORTS = ("orders.emails", "amazon_site.accounts.emails")

# --- Search: the database by default, Elasticsearch via ELASTICSEARCH_URL ---
ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="")
ELASTICSEARCH_DSL = {"default": {"hosts": ELASTICSEARCH_URL or "http://127.0.0.1:9200"}}
# The index is synced in batches by a Celery task, not on every save.
ELASTICSEARCH_DSL_AUTOSYNC = False
ELASTICSEARCH_DSL_AUTO_REFRESH = False
# Seconds before a search gives up on Elasticsearch and asks the database.
ELASTICSEARCH_TIMEOUT = env.float("ELASTICSEARCH_TIMEOUT", default=2.0)

# --- Events: kept in the outbox table by default, relayed to Kafka via KAFKA_BOOTSTRAP_SERVERS ---
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="")
# Prepended to every topic ("staging." gives "staging.orders").
KAFKA_TOPIC_PREFIX = env.str("KAFKA_TOPIC_PREFIX", default="")
# The brokers' protocol version, e.g. "2.1.0"; unset, the producer asks the broker.
KAFKA_API_VERSION = tuple(int(part) for part in env.str("KAFKA_API_VERSION", default="").split(".") if part) or None
# Published events stay this long in the outbox (visible in the admin), then a daily task prunes them.
EVENTS_KEEP_PUBLISHED_DAYS = env.int("EVENTS_KEEP_PUBLISHED_DAYS", default=7)

# --- Mail: printed on the console by default, another backend via EMAIL_BACKEND ---
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@amazon-site.example")
# Carriers' tracking pages for the shipping mail ({number} is the tracking number); other carriers get the number only.
ORDER_TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}",
}
# A stored order mail whose sending raised (the mail server down) is tried again by the
# sweep every 5 minutes; after this many attempts it is marked failed (see orders/emails.py).
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=5)
# Days a link confirming a shopper's e-mail address works (a signed timestamp, no table).
EMAIL_CONFIRMATION_DAYS = env.int("EMAIL_CONFIRMATION_DAYS", default=3)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security: strict by default whenever DEBUG is off ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a per-domain commitment an operator opts into (SECURE_HSTS_PRELOAD=1).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Cookies: sent on top-level navigations from other sites (Lax) but not on their POSTs.
# The session cookie is never readable by scripts; the CSRF cookie is by default (the
# Swagger UI's "Try it out" sends it as a header) and CSRF_COOKIE_HTTPONLY=1 hides it.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = env.bool("CSRF_COOKIE_HTTPONLY", default=False)
CSRF_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy (amazon_site/core/security.py): no inline scripts or styles anywhere;
# only the Swagger UI at /api/docs/ adds 'unsafe-inline' to style-src (see urls.py).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}

# --- Rate limits (amazon_site/core/ratelimit.py): sliding windows counted in the cache ---
# "N/period" with period s, min, h or d. With the cache down they fail open (no limit).
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
RATELIMIT_LOGIN_IP = env.str("RATELIMIT_LOGIN_IP", default="10/min")  # log-in attempts per client IP
# Failed log-ins per username before it is locked for the rest of the window.
RATELIMIT_LOGIN_FAILURES = env.str("RATELIMIT_LOGIN_FAILURES", default="5/15min")
RATELIMIT_SIGNUP_IP = env.str("RATELIMIT_SIGNUP_IP", default="5/h")  # accounts created per client IP
# Sign-up form posts per client IP, valid or not: each tells whether a username is taken.
RATELIMIT_SIGNUP_ATTEMPTS_IP = env.str("RATELIMIT_SIGNUP_ATTEMPTS_IP", default="20/h")
RATELIMIT_PASSWORD_CHANGE_USER = env.str("RATELIMIT_PASSWORD_CHANGE_USER", default="5/15min")  # wrong current passwords per account
RATELIMIT_PASSWORD_RESET_IP = env.str("RATELIMIT_PASSWORD_RESET_IP", default="10/h")  # reset requests per client IP
# Reset mails per address; past it the page still says "sent", so it tells nothing about the address.
RATELIMIT_PASSWORD_RESET_EMAIL = env.str("RATELIMIT_PASSWORD_RESET_EMAIL", default="3/h")
RATELIMIT_EMAIL_CHANGE_USER = env.str("RATELIMIT_EMAIL_CHANGE_USER", default="5/h")  # confirmation mails per account (address changes)
RATELIMIT_CHECKOUT_USER = env.str("RATELIMIT_CHECKOUT_USER", default="20/min")  # checkout POSTs per account
RATELIMIT_CART_ADD_IP = env.str("RATELIMIT_CART_ADD_IP", default="30/min")  # adds to a cart (page and API) per client IP
# Proxies in front of the site appending to X-Forwarded-For (as API_NUM_PROXIES); 0 uses REMOTE_ADDR.
RATELIMIT_NUM_PROXIES = env.int("RATELIMIT_NUM_PROXIES", default=env.int("API_NUM_PROXIES", default=0))

REST_FRAMEWORK = {
    # The session serves the site's own JS; a token (POST /api/auth/token/) any other client.
    # Session first: a request without either is refused with 403, never a 401 challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    # DRF's parsers, with a JSON one that answers any malformed body (too deeply nested too) with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "amazon_site.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["amazon_site.core.api.AnonRateThrottle", "amazon_site.core.api.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="100/min"),  # per client IP
        "user": env.str("API_THROTTLE_USER", default="1000/min"),  # per account
    },
    # Proxies in front of the site that append to X-Forwarded-For; 0 trusts only
    # the socket's address, so a client cannot pick its own throttling key.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "amazon_site.core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Store API",
    "DESCRIPTION": "The catalog, the visitor's cart, checkout and orders. Errors are "
    '`{"detail": "...", "errors": {field: [messages]}}` (`errors` for invalid input only).',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Separate request and response components: read-only and write-only fields differ.
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are what the serializer requires, not all-optional.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "amazon_site.core.api.document_errors"],
    # Orders and their timeline share the status choices: one enum.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Status",
        "CheckoutErrorCodeEnum": "orders.errors.CheckoutErrorCode",
        "OrderErrorCodeEnum": "orders.errors.OrderErrorCode",
    },
    # Swagger UI and ReDoc from the installed static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ==== Store rules ====

# --- Catalog ---
CATALOG_PAGE_SIZE = 24
# Browsing is bounded: deep OFFSETs cost linear time and no shopper reads
# page 5000; they refine the query instead.
CATALOG_MAX_PAGES = 100
CATALOG_REVIEWS_PAGE_SIZE = 5
CATALOG_RECENTLY_VIEWED_SHOWN = 8  # cards on the recently viewed shelf
# How stale the category tree and the featured products may be: staff edits
# of categories drop the tree at once; featured products follow ratings slowly.
CATALOG_CATEGORY_TREE_CACHE_SECONDS = 300
CATALOG_FEATURED_CACHE_SECONDS = 600
# Browse pages served to anonymous visitors are kept this long, to be served stale while the database is down (0: off).
STALE_PAGES_SECONDS = env.int("STALE_PAGES_SECONDS", default=3600)
# Search answers (a page of ids, the total, the facet counts) are cached this
# long per query, and facet counts per query and filters (so page 2 and
# another sort count nothing again); the cards on the page are always read
# fresh. Catalog words (for ranking and "did you mean") are cached longer.
SEARCH_RESULTS_CACHE_SECONDS = env.int("SEARCH_RESULTS_CACHE_SECONDS", default=60)
SEARCH_TERMS_CACHE_SECONDS = 600
# The search box's type-ahead offers the most reviewed active products, this
# many: a lookup then reads a few thousand rows at worst (catalog/search/typeahead.py).
CATALOG_TYPEAHEAD_PRODUCTS = env.int("CATALOG_TYPEAHEAD_PRODUCTS", default=100_000)
LOW_STOCK_THRESHOLD = 5

# --- Cart: reservations and their expiry (see cart/services.py) ---
# Stock added to a cart is held this long after the cart's last activity.
CART_RESERVATION_MINUTES = env.int("CART_RESERVATION_MINUTES", default=30)
# A visitor's (not signed in) cart holds stock this long after its last change.
CART_ANON_RESERVATION_MINUTES = env.int("CART_ANON_RESERVATION_MINUTES", default=10)
# Units the carts of one client address may hold together while not signed in (0: no cap).
CART_MAX_HELD_UNITS_PER_CLIENT = env.int("CART_MAX_HELD_UNITS_PER_CLIENT", default=20)
CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=10)
# Expired reservations released per transaction by the beat task.
CART_EXPIRY_BATCH_SIZE = 500
# Without a broker (no beat), requests release expired holds at most this often.
CART_EMBEDDED_EXPIRY_SECONDS = 60
# A visitor's cart lives in the session; once every session that could point at it
# has expired (SESSION_COOKIE_AGE, two weeks), a daily task deletes it.
CART_ABANDONED_DAYS = env.int("CART_ABANDONED_DAYS", default=30)
# Short TTLs: changes clear these entries, the TTL only bounds what other
# writers (staff stock edits) leave stale.
CART_COUNT_CACHE_SECONDS = 60
STOCK_BADGE_CACHE_SECONDS = 15

# --- Orders and payments (see orders/checkout.py and orders/fulfilment.py) ---
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="orders.payments.TestGateway")
ORDER_SHIPPING_FEE = Decimal(env.str("ORDER_SHIPPING_FEE", default="4.99"))
ORDER_FREE_SHIPPING_FROM = Decimal(env.str("ORDER_FREE_SHIPPING_FROM", default="35.00"))
ORDER_TAX_RATE = Decimal(env.str("ORDER_TAX_RATE", default="0"))  # a fraction of subtotal + shipping
# An order still pending without a payment this long after it was placed had its
# checkout stopped half-way; a task asks the gateway and settles it.
ORDER_UNFINISHED_CHECKOUT_MINUTES = env.int("ORDER_UNFINISHED_CHECKOUT_MINUTES", default=15)
# How often that task runs; what shoppers are told to wait is derived from both.
ORDER_SETTLE_INTERVAL_MINUTES = env.int("ORDER_SETTLE_INTERVAL_MINUTES", default=5)
# Days from payment until a parcel leaves its warehouse, and days it travels: by warehouse code, then by
# destination country, "*" matching any (JSON in the environment). See orders/delivery.py.
SHIPPING_HANDLING_DAYS = env.int("SHIPPING_HANDLING_DAYS", default=1)
SHIPPING_TRANSIT_DAYS = env.json("SHIPPING_TRANSIT_DAYS", default={"*": {"US": 3, "*": 7}})
if not (
    isinstance(SHIPPING_TRANSIT_DAYS, dict)
    and all(
        isinstance(countries, dict) and all(isinstance(days, int) and days >= 0 for days in countries.values())
        for countries in SHIPPING_TRANSIT_DAYS.values()
    )
    and SHIPPING_HANDLING_DAYS >= 0
):
    raise ImproperlyConfigured(
        'SHIPPING_TRANSIT_DAYS maps warehouse codes to {"country": days} (whole days, 0 or more), '
        'e.g. {"*": {"US": 3, "*": 7}}; SHIPPING_HANDLING_DAYS is 0 or more.'
    )
# A shopper may ask to return units this many days after they were delivered.
ORDER_RETURN_DAYS = env.int("ORDER_RETURN_DAYS", default=30)

# --- Recommendations (see recommendations/scoring.py and docs/recommendations.md) ---
# Orders with more distinct products than this are skipped: one bulk order
# must not pair up fifty unrelated products.
RECOMMENDATIONS_MAX_ORDER_ITEMS = env.int("RECOMMENDATIONS_MAX_ORDER_ITEMS", default=50)
RECOMMENDATIONS_MIN_CO_COUNT = env.int("RECOMMENDATIONS_MIN_CO_COUNT", default=2)
RECOMMENDATIONS_LIST_LENGTH = 20
# A basket this many days old weighs half as much as today's (buying habits
# change with the season); also the half-life of a shopper's own purchases.
RECOMMENDATIONS_HALF_LIFE_DAYS = env.float("RECOMMENDATIONS_HALF_LIFE_DAYS", default=30.0)
if not RECOMMENDATIONS_HALF_LIFE_DAYS > 0:
    raise ImproperlyConfigured(
        f"RECOMMENDATIONS_HALF_LIFE_DAYS is {RECOMMENDATIONS_HALF_LIFE_DAYS}: it must be a positive number of days "
        "(how old a basket is when it weighs half as much as today's; the default is 30)."
    )
# Baskets' worth of the product's overall share that every pair's confidence is
# shrunk toward: a pair seen twice must not outrank what most baskets hold.
# Both chosen on a validation split of the bakery baskets' training part.
RECOMMENDATIONS_SHRINKAGE = 5.0
# Orders older than this are not read: the nightly job's cost follows the
# window's order volume, not the store's whole history.
RECOMMENDATIONS_WINDOW_DAYS = env.int("RECOMMENDATIONS_WINDOW_DAYS", default=90)
# How long readers keep a list cached. Valkey is one cache for every process and
# each run rewrites its keys, so a day; the local-memory default is per process,
# and a run made elsewhere (compute_recommendations beside `make run`) reaches a
# server only as its entries expire, so a minute.
RECOMMENDATIONS_CACHE_SECONDS = env.int("RECOMMENDATIONS_CACHE_SECONDS", default=24 * 3600 if VALKEY_URL else 60)
# Memory PostgreSQL may use per sort or hash in the nightly job's transaction:
# less spills to temporary files and runs a little slower (see docs/recommendations.md, "Scale").
RECOMMENDATIONS_WORK_MEM = env.str("RECOMMENDATIONS_WORK_MEM", default="64MB")

# --- Staff (the admin; see amazon_site/core/dashboard.py) ---
# The store's name in the admin's header and page titles.
STORE_NAME = env.str("STORE_NAME", default="Amazon-style Store")
# The dashboard lists active products with fewer unreserved units than this, all warehouses together.
STAFF_LOW_STOCK_THRESHOLD = env.int("STAFF_LOW_STOCK_THRESHOLD", default=5)

# --- Scheduled jobs (Celery beat; times in UTC) ---
CELERY_BEAT_SCHEDULE = {
    "cart-release-expired-reservations": {
        "task": "cart.tasks.release_expired_reservations",
        "schedule": 60.0,
        # A run that waited longer than its interval is superseded by the next.
        "options": {"expires": 55},
    },
    "catalog-sync-search-index": {
        "task": "catalog.tasks.sync_search_index",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "events-relay": {
        "task": "amazon_site.events.tasks.relay_events",
        "schedule": 10.0,
        "options": {"expires": 9},
    },
    "orders-settle-unfinished-checkouts": {
        "task": "orders.tasks.settle_unfinished_checkouts",
        "schedule": ORDER_SETTLE_INTERVAL_MINUTES * 60.0,
        "options": {"expires": ORDER_SETTLE_INTERVAL_MINUTES * 60 - 10},
    },
    # Order mails a broker outage left queued; the task queued on commit sends the others at once.
    "orders-send-queued-mail": {
        "task": "orders.tasks.send_queued_mail",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Daily, half an hour apart.
    "recommendations-compute": {
        "task": "recommendations.tasks.compute_recommendations",
        "schedule": crontab(hour=2, minute=30),
    },
    "catalog-refresh-search-terms": {
        "task": "catalog.tasks.refresh_search_terms",
        "schedule": crontab(hour=3, minute=0),
    },
    "catalog-refresh-typeahead": {
        "task": "catalog.tasks.refresh_typeahead",
        "schedule": crontab(hour=3, minute=15),
    },
    "events-prune-published": {
        "task": "amazon_site.events.tasks.prune_published_events",
        "schedule": crontab(hour=3, minute=30),
    },
    "sessions-clear-expired": {
        "task": "amazon_site.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=0),
    },
    "carts-delete-abandoned": {
        "task": "cart.tasks.delete_abandoned_carts",
        "schedule": crontab(hour=4, minute=30),
    },
}

# --- Operations (see docs/operating.md) ---
# Logs: one JSON object per line with DEBUG off (LOG_FORMAT=json|text overrides),
# readable text in development; every record carries the request id.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "amazon_site.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "amazon_site.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # kafka-python logs every connection attempt at INFO; the relay logs what matters.
        "kafka": {"level": "WARNING"},
        # Django's defaults give these their own console handlers (with DEBUG on), so each
        # line was printed twice next to the root's: here they only propagate to it, at LOG_LEVEL.
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": [], "level": "NOTSET", "propagate": True},
    },
}
# /metrics and /readyz's per-service checks answer only "Authorization: Bearer <METRICS_TOKEN>" when it is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Without a token they are refused (/readyz: the overall status only) unless public: the default with DEBUG only.
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=DEBUG)
# Probes and scrapes come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Celery workers log through LOGGING too (JSON lines in production) instead of their own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
