#!/usr/bin/env python
import os
import sys

# Set by an operator or a process manager, these mean "not a development checkout".
PRODUCTION_VARIABLES = {"DEBUG", "SECRET_KEY", "DATABASE_URL"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
    # With none of them set, commands get `make run`'s development defaults, so the
    # README's commands work as written; with any set, nothing is assumed, and a
    # production shell never falls back to DEBUG or the development key.
    if not PRODUCTION_VARIABLES & os.environ.keys():
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
