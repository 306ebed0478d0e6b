"""Content-Security-Policy, cookies, rate limits, log-in lockout and password rules."""
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from amazon_site.core import ratelimit
from recommendations.services import compute_recommendations
from tests.outages import DEAD_VALKEY
from tests.factories import PASSWORD, UserFactory, order_of, stocked_product

pytestmark = pytest.mark.django_db

STRICT = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> block")
        if tag == "a" and (names.get("href") or "").strip().lower().startswith("javascript:"):
            self.found.append("javascript: link")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def shopper_with_cart(client):
    user = UserFactory()
    client.force_login(user)
    product = stocked_product(5)
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    return user, product


def test_pages_send_the_strict_policy_and_hold_no_inline_code(client, shopper_with_cart):
    _, product = shopper_with_cart
    complement = stocked_product(5, category=product.category)
    for _ in range(2):  # so the product page shows "Frequently bought together" and its form
        order_of(UserFactory(password=None), product, complement, status="paid")
    compute_recommendations()
    assert "Frequently bought together" in client.get(product.get_absolute_url()).content.decode()
    client.post(
        "/checkout/",
        {"form": "new", "full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "", "city": "London",
         "postal_code": "N1 9GU", "country": "GB", "phone": ""},
    )
    pages = ["/", "/search/?q=product", f"/c/{product.category.slug}/", product.get_absolute_url(), "/cart/",
             "/checkout/", "/checkout/review/", "/orders/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == STRICT, url
        assert inline_code(response.content.decode()) == [], url
        assert 'src="/static/js/site.js"' in response.content.decode(), url


def test_anonymous_pages_and_errors_carry_the_policy_too(client):
    for url in ["/accounts/login/", "/accounts/signup/", "/no-such-page/"]:
        response = client.get(url)
        assert response["Content-Security-Policy"] == STRICT, url
        assert inline_code(response.content.decode()) == [], url


def test_the_account_pages_carry_the_policy(client):
    from amazon_site.accounts.confirmation import make_token
    from amazon_site.accounts.models import EmailAddress

    claim = EmailAddress.objects.create(user=UserFactory(email=""), email="claimed@example.com")
    urls = [f"/accounts/email/confirm/{make_token(claim)}/", "/accounts/email/confirm/garbled/",
            "/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/garbled-token/",
            "/accounts/reset/done/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert response["Content-Security-Policy"] == STRICT, url
        assert inline_code(response.content.decode()) == [], url


def test_the_account_page_and_address_book_carry_the_policy(client):
    from orders.checkout import save_address

    shopper = UserFactory()
    address = save_address(user=shopper, data={"full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "",
                                               "city": "London", "postal_code": "N1 9GU", "country": "GB", "phone": ""})
    client.force_login(shopper)
    for url in ["/account/", "/account/addresses/", f"/account/addresses/{address.pk}/edit/", "/accounts/password_change/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == STRICT, url
        assert inline_code(response.content.decode()) == [], url


def test_sort_select_submits_through_the_site_script_and_keeps_a_button_without_it(client):
    product = stocked_product(1)
    for url in ["/search/?q=product", f"/c/{product.category.slug}/"]:
        html = client.get(url).content.decode()
        assert re.search(r'<select id="sort" name="sort" data-autosubmit>', html), url
        assert '<noscript><button type="submit">Sort</button></noscript>' in html, url


def test_api_docs_run_their_script_from_a_file_and_only_relax_styles(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    html = response.content.decode()
    assert [found for found in inline_code(html) if found != "<style> block"] == []
    script = re.search(r'<script src="([^"]*script[^"]*)"', html).group(1).replace("&amp;", "&")
    js = client.get(script)
    assert js.status_code == 200 and js["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in js.content.decode()


def test_the_session_cookie_is_http_only_and_both_cookies_same_site_lax(client, settings):
    form = client.get("/accounts/login/")
    assert form.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"
    user = UserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- Rate limits and lockout ---


@pytest.fixture
def tight_limits(settings):
    settings.RATELIMIT_LOGIN_IP = "100/min"
    settings.RATELIMIT_LOGIN_FAILURES = "3/15min"
    settings.RATELIMIT_SIGNUP_IP = "2/h"
    settings.RATELIMIT_CHECKOUT_USER = "2/min"
    return settings


def log_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_username_is_locked_after_repeated_failures_without_checking_the_password(client, tight_limits, monkeypatch):
    user = UserFactory()
    for _ in range(3):
        failed = log_in(client, user.username, "wrong password")
        assert failed.status_code == 200 and "enter a correct username and password" in failed.content.decode()

    checked = []
    from django.contrib.auth.backends import ModelBackend

    original = ModelBackend.authenticate
    monkeypatch.setattr(ModelBackend, "authenticate", lambda *a, **k: checked.append(1) or original(*a, **k))
    locked = log_in(client, user.username.upper(), PASSWORD)  # the right password, another spelling
    assert locked.status_code == 429
    assert "Too many failed log-ins for this account" in locked.content.decode()
    assert checked == [] and "_auth_user_id" not in client.session
    # Another account from the same client is not locked.
    other = UserFactory()
    assert log_in(client, other.username, PASSWORD).status_code == 302


def test_a_successful_log_in_clears_the_failures(client, tight_limits):
    user = UserFactory()
    for _ in range(2):
        log_in(client, user.username, "wrong password")
    assert log_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert log_in(client, user.username, "wrong password").status_code == 200
    assert log_in(client, user.username, PASSWORD).status_code == 302


def test_log_in_attempts_per_ip_are_limited(client, tight_limits):
    tight_limits.RATELIMIT_LOGIN_IP = "3/min"
    for n in range(3):
        assert log_in(client, f"nobody{n}", "x").status_code == 200
    refused = log_in(client, "nobody9", "x")
    assert refused.status_code == 429 and "Too many log-in attempts from your network" in refused.content.decode()
    # Another client address still logs in.
    user = UserFactory()
    assert client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    ).status_code == 302


def signup(client, username, password="a much longer passphrase 9"):
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": f"{username}@example.net", "password1": password, "password2": password},
    )


def test_sign_ups_per_ip_are_limited(client, tight_limits):
    assert signup(client, "first").status_code == 302
    client.logout()
    assert signup(client, "second").status_code == 302
    client.logout()
    refused = signup(client, "third")
    assert refused.status_code == 429
    assert "Too many accounts were created from your network" in refused.content.decode()
    assert not get_user_model().objects.filter(username="third").exists()


def test_sign_up_rejects_a_common_password(client, settings):
    names = [validator["NAME"].rsplit(".", 1)[1] for validator in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"
    ]
    response = signup(client, "newcomer", "password")
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_checkout_attempts_per_account_are_limited_with_a_clear_message(client, tight_limits, shopper_with_cart):
    for _ in range(2):  # invalid payment forms: counted, nothing placed
        assert client.post("/checkout/review/", {}).status_code in (200, 302)
    refused = client.post("/checkout/review/", {}, follow=True)
    assert refused.status_code == 200
    assert "Too many checkout attempts" in refused.content.decode()

    api = APIClient()
    api.force_authenticate(shopper_with_cart[0])
    throttled = api.post("/api/checkout/", {}, format="json", HTTP_IDEMPOTENCY_KEY="3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert throttled.status_code == 429
    assert "Too many checkout attempts" in throttled.json()["detail"] and int(throttled["Retry-After"]) >= 1


def test_limits_fail_open_when_the_cache_is_down(settings):
    settings.RATELIMIT_LOGIN_IP = "1/min"
    settings.CACHES = DEAD_VALKEY
    limit = ratelimit.limit("login-ip", "1.2.3.4", "RATELIMIT_LOGIN_IP")
    assert all(limit.hit() for _ in range(5))
    assert not limit.exceeded()


def test_rates_parse_and_the_client_ip_ignores_forged_forwarding(rf, settings):
    assert ratelimit.Rate.parse("5/15min") == ratelimit.Rate(5, 900)
    assert ratelimit.Rate.parse("10/min") == ratelimit.Rate(10, 60)
    assert ratelimit.Rate.parse("5/h") == ratelimit.Rate(5, 3600)
    with pytest.raises(ValueError):
        ratelimit.Rate.parse("often")
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.RATELIMIT_NUM_PROXIES = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.RATELIMIT_NUM_PROXIES = 1
    assert ratelimit.client_ip(request) == "203.0.113.7"


def obtain_token(username, password):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")


def test_the_api_token_shares_the_log_in_lockout(client, tight_limits, monkeypatch):
    user = UserFactory()
    for _ in range(2):
        assert obtain_token(user.username, "wrong password").status_code == 400
    assert log_in(client, user.username, "wrong password").status_code == 200  # the third failure, on the page

    checked = []
    from django.contrib.auth.backends import ModelBackend

    original = ModelBackend.authenticate
    monkeypatch.setattr(ModelBackend, "authenticate", lambda *a, **k: checked.append(1) or original(*a, **k))
    locked = obtain_token(user.username, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed log-ins for this account.")
    assert int(locked["Retry-After"]) > 0
    assert checked == []
    assert not Token.objects.filter(user=user).exists()


def test_a_token_clears_the_failures(tight_limits):
    user = UserFactory()
    for _ in range(2):
        obtain_token(user.username, "wrong password")
    assert obtain_token(user.username, PASSWORD).status_code == 200
    for _ in range(2):
        assert obtain_token(user.username, "wrong password").status_code == 400
    assert obtain_token(user.username, PASSWORD).status_code == 200


BOUNDARY = 900 * 2_000_000  # a multiple of 15 minutes: where one period ends and the next begins


def test_guesses_straddling_a_period_boundary_are_still_limited(settings):
    settings.RATELIMIT_LOGIN_FAILURES = "5/15min"
    limit = ratelimit.limit("login-failures", "ada", "RATELIMIT_LOGIN_FAILURES")
    assert all(limit.hit(now=BOUNDARY - 5 + second) for second in range(5))  # the last seconds of a period
    for second in range(1, 6):  # the first seconds of the next: still five guesses in the last 15 minutes
        assert not limit.hit(now=BOUNDARY + second)
    assert limit.exceeded(now=BOUNDARY + 6)


def test_retry_after_says_when_the_next_hit_passes(settings):
    settings.RATELIMIT_LOGIN_FAILURES = "5/15min"
    limit = ratelimit.limit("login-failures", "ada", "RATELIMIT_LOGIN_FAILURES")
    for second in range(5):
        limit.hit(now=BOUNDARY - 5 + second)
    for now in (BOUNDARY - 1, BOUNDARY + 1):  # the burst's own period, then the next
        wait = limit.retry_after(now=now)
        assert not limit.hit(now=now + wait - 2), now  # refused hits are taken back: they do not move the wait
        assert limit.retry_after(now=now) == wait
    now = BOUNDARY + 1
    assert limit.hit(now=now + limit.retry_after(now=now))


def test_no_window_of_the_period_ever_holds_more_than_the_limit(settings):
    settings.RATELIMIT_LOGIN_FAILURES = "5/15min"
    limit = ratelimit.limit("login-failures", "ada", "RATELIMIT_LOGIN_FAILURES")
    burst = [BOUNDARY - 5 + second for second in range(5)]
    assert all(limit.hit(now=at) for at in burst)
    # A guess a minute for the next quarter of an hour: none passes while the burst is inside the window.
    for minute in range(1, 15):
        assert not limit.hit(now=BOUNDARY + 60 * minute), minute
    assert limit.hit(now=burst[0] + 900 + 0.5)  # the oldest has left: exactly one place opens
    assert not limit.hit(now=burst[0] + 900 + 0.6)


def test_sign_up_attempts_per_ip_are_limited_so_usernames_cannot_be_probed(client, tight_limits):
    tight_limits.RATELIMIT_SIGNUP_ATTEMPTS_IP = "3/h"
    taken = UserFactory()
    for _ in range(3):  # invalid forms create nothing, but each tells whether the name is taken
        probed = signup(client, taken.username)
        assert probed.status_code == 200 and "A user with that username already exists" in probed.content.decode()
    refused = signup(client, taken.username)
    assert refused.status_code == 429
    assert "Too many sign-up attempts from your network" in refused.content.decode()
    assert "already exists" not in refused.content.decode()
    assert signup(client, "newcomer").status_code == 429
    assert not get_user_model().objects.filter(username="newcomer").exists()
    assert client.post(  # another network is not limited
        "/accounts/signup/",
        {
            "username": "newcomer", "email": "newcomer@example.net",
            "password1": "a much longer passphrase 9", "password2": "a much longer passphrase 9",
        },
        REMOTE_ADDR="10.0.0.9",
    ).status_code == 302


def admin_log_in(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"})


def test_the_admin_log_in_shares_the_lockout(client, tight_limits, monkeypatch):
    staff = UserFactory(is_staff=True)
    for _ in range(2):
        assert admin_log_in(client, staff.username, "wrong password").status_code == 200
    assert log_in(client, staff.username, "wrong password").status_code == 200  # the third failure, on the shop's page

    checked = []
    from django.contrib.auth.backends import ModelBackend

    original = ModelBackend.authenticate
    monkeypatch.setattr(ModelBackend, "authenticate", lambda *a, **k: checked.append(1) or original(*a, **k))
    locked = admin_log_in(client, staff.username, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed log-ins for this account" in locked.content.decode()
    assert checked == [] and "_auth_user_id" not in client.session


def test_admin_log_in_attempts_per_ip_are_limited(client, tight_limits):
    tight_limits.RATELIMIT_LOGIN_IP = "3/min"
    staff = UserFactory(is_staff=True)
    for n in range(3):
        assert admin_log_in(client, f"nobody{n}", "x").status_code == 200
    refused = admin_log_in(client, staff.username, PASSWORD)
    assert refused.status_code == 429 and "Too many log-in attempts from your network" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert admin_log_in(Client(REMOTE_ADDR="10.0.0.9"), staff.username, PASSWORD).status_code == 302


def change_password(client, url, old, new="a brand new passphrase 7"):
    return client.post(url, {"old_password": old, "new_password1": new, "new_password2": new})


@pytest.mark.parametrize("url", ["/accounts/password_change/", "/admin/password_change/"])
def test_wrong_current_passwords_on_the_password_change_pages_are_limited(client, tight_limits, url):
    tight_limits.RATELIMIT_PASSWORD_CHANGE_USER = "2/15min"
    user = UserFactory(is_staff=True)  # staff, so both pages are open to it
    client.force_login(user)
    for _ in range(2):
        wrong = change_password(client, url, "wrong password")
        assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    refused = change_password(client, url, PASSWORD)  # the right one, too late
    assert refused.status_code == 429
    assert "Too many wrong current passwords" in refused.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_right_current_password_clears_the_failures(client, tight_limits):
    tight_limits.RATELIMIT_PASSWORD_CHANGE_USER = "2/15min"
    user = UserFactory()
    client.force_login(user)
    change_password(client, "/accounts/password_change/", "wrong password")
    assert change_password(client, "/accounts/password_change/", PASSWORD, "first new passphrase 7").status_code == 302
    change_password(client, "/accounts/password_change/", "wrong password")
    assert change_password(client, "/accounts/password_change/", "first new passphrase 7").status_code == 302


def reset(client, email):
    return client.post("/accounts/password_reset/", {"email": email})


def test_password_reset_mails_are_limited_per_address_without_telling_whether_it_exists(client, settings, mailoutbox):
    settings.RATELIMIT_PASSWORD_RESET_EMAIL = "1/h"
    user = UserFactory()
    first = reset(client, user.email)
    assert first.status_code == 302 and len(mailoutbox) == 1
    again = reset(client, user.email.upper())  # over the address's limit: the same answer, no mail
    unknown = reset(client, "nobody@example.com")  # no such address: the same answer, no mail
    assert (again.status_code, again["Location"]) == (unknown.status_code, unknown["Location"]) == (302, first["Location"])
    assert len(mailoutbox) == 1


def test_password_reset_requests_per_ip_are_limited(client, settings, mailoutbox):
    settings.RATELIMIT_PASSWORD_RESET_IP = "2/h"
    users = UserFactory.create_batch(3)
    for user in users[:2]:
        assert reset(client, user.email).status_code == 302
    refused = reset(client, users[2].email)
    assert refused.status_code == 429
    assert "Too many password reset requests from your network" in refused.content.decode()
    assert len(mailoutbox) == 2
