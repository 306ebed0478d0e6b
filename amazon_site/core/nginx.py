"""Start nginx in front of gunicorn: the Procfile's ``proxy`` process (and docker-compose's).

Renders amazon_site/core/nginx.conf into NGINX_DIR (default var/nginx) and replaces
itself with ``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'``, so a process
manager sees nginx itself and stops it with SIGTERM. Read from the environment:

- HOST, PORT: where nginx listens, the store's public address (default 0.0.0.0:8000);
- NGINX_UPSTREAM: gunicorn's address (default 127.0.0.1:$WEB_PORT, WEB_PORT 8001);
- NGINX_CLIENT_TIMEOUT (10s), NGINX_CLIENT_MAX_BODY_SIZE (10m), GUNICORN_TIMEOUT (30);
- NGINX_FORWARDED_PROTO: ``$scheme``, or ``$http_x_forwarded_proto`` behind a TLS terminator;
- the static and media directories from the store's settings.
"""
import os
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        sys.exit("nginx is not installed: `apt-get install nginx` (Debian's package). The store's sync workers "
                 "must not face clients directly (see docs/operating.md).")
    return found


def store_directories() -> tuple[Path, Path]:
    """STATIC_ROOT and MEDIA_ROOT as the store's settings say (one source of truth)."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
    from django.conf import settings

    return Path(settings.STATIC_ROOT), Path(settings.MEDIA_ROOT)


def render(directory: Path, static_root: Path, media_root: Path, env=os.environ) -> str:
    values = {
        "DIR": str(directory),
        "LISTEN": f"{env.get('HOST', '0.0.0.0')}:{env.get('PORT', '8000')}",
        "UPSTREAM": env.get("NGINX_UPSTREAM", f"127.0.0.1:{env.get('WEB_PORT', '8001')}"),
        "CLIENT_TIMEOUT": env.get("NGINX_CLIENT_TIMEOUT", "10s"),
        "CLIENT_MAX_BODY_SIZE": env.get("NGINX_CLIENT_MAX_BODY_SIZE", "10m"),
        "UPSTREAM_TIMEOUT": f"{int(env.get('GUNICORN_TIMEOUT', 30)) + 5}s",
        "FORWARDED_PROTO": env.get("NGINX_FORWARDED_PROTO", "$scheme"),
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
    }
    return re.sub(r"@([A-Z_]+)@", lambda match: values[match.group(1)], TEMPLATE.read_text())


def main():
    binary = nginx_binary()
    directory = Path(os.environ.get("NGINX_DIR", REPO / "var" / "nginx")).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(render(directory, *store_directories()))
    sys.stdout.flush()
    os.execv(binary, [binary, "-p", str(directory), "-c", str(config), "-e", "stderr", "-g", "daemon off;"])


if __name__ == "__main__":
    main()
