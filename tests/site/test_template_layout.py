"""Where templates live: shared layouts in templates/, each app's pages inside the app."""
from pathlib import Path

from django.conf import settings
from django.template import engines


def project_template_dirs():
    """The engine's template directories that belong to this project (not Django's or a library's)."""
    base = Path(settings.BASE_DIR)
    for directory in map(Path, engines["django"].template_dirs):
        if directory.is_relative_to(base) and ".venv" not in directory.relative_to(base).parts:
            yield directory


def test_no_two_places_of_the_project_provide_the_same_template_name():
    assert settings.TEMPLATES[0]["APP_DIRS"]
    places = {}
    for directory in project_template_dirs():
        for template in directory.rglob("*"):
            if template.is_file():
                places.setdefault(str(template.relative_to(directory)), []).append(directory)
    assert {name: dirs for name, dirs in places.items() if len(dirs) > 1} == {}
    # Pages of the apps moved out of the shared directory: it keeps layouts and shared partials.
    assert {"catalog/product.html", "reviews/_reviews.html", "recommendations/_shelf.html"} <= set(places)
    shared = Path(settings.BASE_DIR) / "templates"
    assert not (shared / "catalog" / "product.html").exists() and not (shared / "recommendations").exists()
