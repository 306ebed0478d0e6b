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


def settings_of(names, **env):
    script = f"import json; from django.conf import settings as s; print(json.dumps({{k: getattr(s, k) for k in {names!r}}}, default=str))"
    result = run_manage("shell", "-c", script, DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_replicas_get_a_router_a_connection_each_and_the_primary_reads_middleware():
    found = settings_of(
        ["DATABASES", "DATABASE_REPLICAS", "DATABASE_ROUTERS", "MIDDLEWARE"],
        DATABASE_URL="postgres://store@10.0.0.1:5432,10.0.0.2:5432/store?target_session_attrs=read-write",
        DATABASE_REPLICA_URLS="postgres://store@10.0.0.2:5432/store postgres://store@10.0.0.3:5432/store",
    )
    primary = found["DATABASES"]["default"]
    assert (primary["HOST"], primary["PORT"]) == ("10.0.0.1,10.0.0.2", "5432,5432")
    assert primary["OPTIONS"]["target_session_attrs"] == "read-write"
    assert found["DATABASE_REPLICAS"] == ["replica1", "replica2"]
    assert [found["DATABASES"][alias]["HOST"] for alias in ("replica1", "replica2")] == ["10.0.0.2", "10.0.0.3"]
    assert found["DATABASES"]["replica1"]["TEST"]["MIRROR"] == "default"
    assert found["DATABASE_ROUTERS"] == ["amazon_site.core.routing.PrimaryReplicaRouter"]
    assert "amazon_site.core.routing.ReplicaReadsMiddleware" in found["MIDDLEWARE"]


def test_without_the_new_variables_nothing_changes():
    found = settings_of(["DATABASES", "DATABASE_ROUTERS", "MIDDLEWARE"], DATABASE_URL="postgres://store@db/store")
    assert list(found["DATABASES"]) == ["default"]
    assert found["DATABASE_ROUTERS"] == []
    assert "amazon_site.core.routing.ReplicaReadsMiddleware" not in found["MIDDLEWARE"]
    assert "statement_timeout=15000" in found["DATABASES"]["default"]["OPTIONS"]["options"]


def test_through_pgbouncer_no_startup_options_and_no_server_side_cursors():
    found = settings_of(["DATABASES"], DATABASE_URL="postgres://store@127.0.0.1:6432/store", DATABASE_POOLER="pgbouncer")
    primary = found["DATABASES"]["default"]
    assert "options" not in primary["OPTIONS"]  # PgBouncer refuses them; its connect_query sets both
    assert primary["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_an_unknown_pooler_or_a_malformed_sentinel_list_stops_start_up():
    result = run_manage("check", DEBUG="1", DATABASE_POOLER="pgpool")
    assert result.returncode != 0 and "DATABASE_POOLER is 'pgpool'" in result.stderr
    result = run_manage("check", DEBUG="1", VALKEY_URL="redis://store/0", VALKEY_SENTINELS="10.0.0.1")
    assert result.returncode != 0 and "VALKEY_SENTINELS is '10.0.0.1'" in result.stderr


def test_sentinels_make_the_cache_follow_the_primary_they_name():
    found = settings_of(["CACHES", "DJANGO_REDIS_CONNECTION_FACTORY"], VALKEY_URL="redis://store/0",
                        VALKEY_SENTINELS="10.0.0.1:26379 10.0.0.2:26379")
    cache = found["CACHES"]["default"]
    assert cache["LOCATION"] == ["redis://store/0?is_master=1"]  # reads too: a replica may hold a dropped entry
    assert cache["OPTIONS"]["CLIENT_CLASS"] == "django_redis.client.SentinelClient"
    assert cache["OPTIONS"]["SENTINELS"] == [["10.0.0.1", 26379], ["10.0.0.2", 26379]]
    assert found["DJANGO_REDIS_CONNECTION_FACTORY"] == "django_redis.pool.SentinelConnectionFactory"
