"""Row ids that come from outside (forms, URLs, cookies, admin posts): what counts as one.

Every table's key is a BigAutoField, so an id is a whole number from 1 to
2**63 - 1. Anything else is no row, and must be answered as such, not handed
to the database, which fails on it (SQLite and psycopg both refuse a number
beyond 64 bits).
"""
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    """An int in range, or its plain decimal spelling (no sign, spaces or other digits)."""
    if type(value) is str:
        if not (value.isascii() and value.isdigit()):
            return False
        value = int(value)
    return type(value) is int and 1 <= value <= MAX_ID
