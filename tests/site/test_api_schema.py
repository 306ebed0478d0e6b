"""The OpenAPI schema: valid, complete, and what the API really answers.

The last test runs schemathesis against the schema on a live test server
(127.0.0.1): for every operation it sends the schema's boundary cases and up
to MAX_EXAMPLES generated requests, valid and invalid, and fails on any 5xx,
undocumented status, wrong content type or body outside the schema.
"""
import subprocess
import sys

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer
from rest_framework.authtoken.models import Token

from cart import services as cart_services
from tests.factories import BrandFactory, OrderFactory, UserFactory, category_tree, stocked_product

MAX_EXAMPLES = 20
REVOKE = "auth_token_destroy"  # DELETE /api/auth/token/
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.django_db
def test_the_docs_are_served_from_the_sites_own_static_files(client):
    assert client.get("/api/schema/?format=json").json()["paths"]["/api/checkout/"]["post"]["responses"]["409"]
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page


@pytest.fixture
def store(django_db_reset_sequences):
    """A little of everything, with small ids (the ones generated paths and bodies hit); returns a staff token."""
    audio, acme = category_tree()["audio"], BrandFactory(slug="acme")
    products = [stocked_product(20, 20, category=audio, brand=acme) for _ in range(3)]
    staff = UserFactory(is_staff=True)  # allowed to move orders, so the staff moves are reached too
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="change_order"))
    cart_services.add_to_cart(cart_services.get_or_create_cart(user=staff).pk, products[0].pk, 2)
    OrderFactory(user=staff, number="100-0000001-0000001")
    return Token.objects.create(user=staff).key


@pytest.fixture
def loopback_server(store, settings):
    """The site on 127.0.0.1 (an ephemeral port), unthrottled, for the duration of a test."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None}}
    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


def schemathesis(server, token, tmp_path, *operations):
    """Runs the schemathesis CLI against the server with the token; returns the finished process."""
    # The CLI, not schemathesis' pytest plugin: that plugin does not run on pytest 9.2 (it sets Node._nodeid).
    return subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/api/schema/?format=json",
            "--checks", ",".join(CHECKS),
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", "1",
            "--workers", "1",
            "--header", f"Authorization: Token {token}",
            # A new connection per request: kept alive, each waits ~40 ms for a delayed ACK.
            "--header", "Connection: close",
            "--generation-database", "none",
            "--request-timeout", "10",
            "--no-color",
            *operations,
        ],
        cwd=tmp_path,  # its cache of failures to replay, and any report, stay out of the work tree
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_api_answers_every_generated_request_as_its_schema_says(loopback_server, store, tmp_path):
    # Revoking the token is fuzzed last, on its own: done early, it would end the token of every other run.
    for operations in (["--exclude-operation-id", REVOKE], ["--include-operation-id", REVOKE]):
        run = schemathesis(loopback_server, store, tmp_path, *operations)
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
