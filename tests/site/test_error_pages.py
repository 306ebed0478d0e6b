from django.test import RequestFactory
from django.views.defaults import server_error


def test_server_error_page_is_in_the_site_style_without_touching_the_database():
    """No django_db mark: any query made while rendering would fail this test."""
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, something went wrong on our side" in body
    assert "css/site.css" in body
