"""The Content-Security-Policy in a real browser: nothing the pages need is blocked."""
import re

import pytest
from playwright.sync_api import expect

from tests.factories import stocked_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def csp_violations(page):
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    return violations


def test_sort_menu_submits_through_the_site_script_without_csp_violations(page):
    product = stocked_product(5)
    stocked_product(5, category=product.category)
    violations = csp_violations(page)
    page.goto(f"/c/{product.category.slug}/")
    page.get_by_label("Sort by").select_option(index=1)
    expect(page).to_have_url(re.compile(r"[?&]sort="))
    page.goto("/search/?q=product")
    page.get_by_label("Sort by").select_option(index=1)
    expect(page).to_have_url(re.compile(r"[?&]sort="))
    assert violations == []


def test_swagger_ui_runs_under_the_policy(page):
    violations = csp_violations(page)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Store API")
    assert violations == []
