"""The shopper-facing pages that are not category browsing."""
import pytest

from tests.factories import PASSWORD, CategoryFactory, InventoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_shows_departments_and_featured_products(client):
    CategoryFactory(name="Garden", slug="garden")
    ProductFactory(title="Best Rated Shovel", rating="4.9", review_count=120)
    body = client.get("/").content.decode()
    assert 'href="/c/garden/"' in body
    assert "Best Rated Shovel" in body


def test_every_page_has_the_search_box(client):
    body = client.get("/").content.decode()
    assert 'role="search"' in body and 'name="q"' in body


def test_product_page_shows_what_a_shopper_needs(client):
    product = ProductFactory(
        title="Steel Water Bottle", price="24.50", attributes={"volume": "750 ml", "material": "Steel"}
    )
    InventoryFactory(product=product, quantity=40)
    body = client.get(product.get_absolute_url()).content.decode()
    for text in ("Steel Water Bottle", "$24.50", "750 ml", "Volume", product.seller.name, product.brand.name, "In stock"):
        assert text in body
    assert f'src="/p/{product.pk}/image.svg?v=' in body  # no photo: the drawn picture


def test_product_url_without_or_with_a_wrong_slug_redirects_to_the_canonical_one(client):
    product = ProductFactory(title="Blue Kettle")
    for url in (f"/p/{product.pk}/", f"/p/{product.pk}/old-name/"):
        response = client.get(url)
        assert response.status_code == 301
        assert response["Location"] == f"/p/{product.pk}/blue-kettle/"


def test_inactive_or_missing_product_is_404(client):
    product = ProductFactory(is_active=False)
    assert client.get(product.get_absolute_url()).status_code == 404
    assert client.get("/p/987654/anything/").status_code == 404


def test_title_search_puts_products_with_every_word_first(client):
    ProductFactory(title="USB-C Charging Cable 2m")
    ProductFactory(title="Lightning Cable")
    ProductFactory(title="Kettle")
    response = client.get("/search/?q=cable+usb")
    # A short list is filled with products that have some of the words, after those with all.
    assert [p.title for p in response.context["products"]] == ["USB-C Charging Cable 2m", "Lightning Cable"]
    assert response.context["result"].partial == 1
    assert response.status_code == 200


def test_search_trims_overlong_queries_and_browses_without_one(client):
    assert client.get("/search/?q=" + "x" * 5000).status_code == 200
    response = client.get("/search/?q=")
    assert response.status_code == 200
    assert "All products" in response.content.decode()


def test_signup_logs_the_new_shopper_in(client, django_user_model):
    response = client.post(
        "/accounts/signup/",
        {"username": "newshopper", "email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert django_user_model.objects.filter(username="newshopper").exists()
    assert response.context["user"].username == "newshopper"
    assert "Hello, newshopper" in response.content.decode()


def test_signup_errors_are_shown_and_nothing_is_created(client, django_user_model):
    response = client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not django_user_model.objects.filter(username="x").exists()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "7859", "home"])
def test_signup_goes_home_unless_next_is_a_path_on_this_site(client, next_url):
    response = client.post(
        "/accounts/signup/",
        {"username": "careful", "email": "careful@example.com", "password1": PASSWORD, "password2": PASSWORD, "next": next_url},
    )
    assert response["Location"] == "/"


def test_signup_follows_next_to_a_path_on_this_site(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "careful", "email": "careful@example.com", "password1": PASSWORD, "password2": PASSWORD, "next": "/cart/"},
    )
    assert response["Location"] == "/cart/"


def test_login_and_logout(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "Log out" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    assert "Log in" in client.get("/").content.decode()

