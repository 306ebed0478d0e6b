"""Start-up configuration, checked in a fresh interpreter as an operator would start it."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_missing_secret_key_with_debug_off_fails_loudly():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        ALLOWED_HOSTS="store.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_and_headers_are_strict():
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in ["
        "'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SECURE', "
        "'CSRF_COOKIE_SAMESITE', 'SECURE_HSTS_SECONDS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY', "
        "'X_FRAME_OPTIONS', 'SECURE_SSL_REDIRECT', 'RATELIMIT_ENABLED', 'METRICS_PUBLIC']}))"
    )
    result = run_manage(
        "shell", "-c", script, DEBUG="0", SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        ALLOWED_HOSTS="store.example.com",
    )
    assert result.returncode == 0, result.stderr
    import json

    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "strict-origin-when-cross-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_SSL_REDIRECT": True,
        "RATELIMIT_ENABLED": True,
        "METRICS_PUBLIC": False,
    }


def run_manage_bare(*args, **env):
    """``manage.py`` as a newcomer's shell runs it: no store variable at all."""
    bare = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**bare, **env}, capture_output=True, text=True
    )


def test_operator_commands_work_as_written_without_any_variable():
    for command in (["help"], ["check"], ["createsuperuser", "--help"]):
        result = run_manage_bare(*command)
        assert result.returncode == 0, (command, result.stderr)
    assert "no issues" in run_manage_bare("check").stdout


def test_a_production_variable_means_no_development_defaults():
    # DATABASE_URL set but SECRET_KEY forgotten: refused, never DEBUG with the development key.
    result = run_manage_bare("check", DATABASE_URL="sqlite:////tmp/never-opened.sqlite3")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    show_debug = ("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert run_manage_bare(*show_debug, SECRET_KEY="s" * 50).stdout.splitlines()[-1] == "False"
    assert run_manage_bare(*show_debug).stdout.splitlines()[-1] == "True"


def test_every_scheduled_job_is_a_task_and_a_late_run_expires_before_the_next(settings):
    from amazon_site.celery import app

    app.loader.import_default_modules()  # what a worker imports at start: every app's tasks module
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        if isinstance(entry["schedule"], float):  # an interval in seconds, not a time of day
            assert entry["options"]["expires"] < entry["schedule"], name
