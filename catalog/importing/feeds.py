"""Reading a catalog feed file: CSV with a header row, or JSON Lines.

Either way each row becomes a dict of the fields in ``rows.FIELDS`` and goes
through ``rows.check``. A problem with the file itself (an unknown column, a
warehouse code no warehouse has, bytes that are not UTF-8) stops the import
before anything is written; a problem with one row only refuses that row.
"""
import csv
import json
from pathlib import Path

from .rows import ATTRIBUTE_PREFIX, FIELDS, STOCK_PREFIX, Rejected

csv.field_size_limit(1 << 24)  # long descriptions


class FeedError(Exception):
    """The file cannot be read as a feed; nothing was imported."""


def read(path, *, warehouses: set[str]):
    """(line number, raw row) for each row of the file, or (line number, ``Rejected``)."""
    path = Path(path)
    if not path.is_file():
        raise FeedError(f"{path}: no such file.")
    kind = feed_format(path)
    handle = path.open(encoding="utf-8-sig", newline="")
    try:
        yield from (_csv_rows if kind == "csv" else _jsonl_rows)(handle, path, warehouses)
    except UnicodeDecodeError as error:
        raise FeedError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    finally:
        handle.close()


def feed_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise FeedError(f"{path}: a feed is a .csv file or a .jsonl (JSON Lines) file.")


def _csv_rows(handle, path, warehouses):
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header:
        raise FeedError(f"{path}: the file is empty; its first line names the columns (sku, title, price...).")
    columns = [name.strip() for name in header]
    _check_columns(columns, path, warehouses)
    plain = [(index, name) for index, name in enumerate(columns) if name in FIELDS]
    attributes = [(index, name[len(ATTRIBUTE_PREFIX):]) for index, name in enumerate(columns) if name.startswith(ATTRIBUTE_PREFIX)]
    stock = [(index, name[len(STOCK_PREFIX):]) for index, name in enumerate(columns) if name.startswith(STOCK_PREFIX)]
    width = len(columns)
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != width:
            yield line, Rejected("", f"{len(values)} values for {width} columns")
            continue
        raw = {name: values[index] for index, name in plain}
        if attributes:
            given = {name: values[index] for index, name in attributes if values[index].strip()}
            if given:
                raw["attributes"] = {**_json_object(raw.get("attributes")), **given}
        if stock:
            raw["stock"] = {code: values[index] for index, code in stock}
        yield line, raw


def _json_object(text):
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}  # the row's own check refuses the attributes cell
    return value if isinstance(value, dict) else {}


def _check_columns(columns, path, warehouses):
    seen = set()
    for name in columns:
        if name in seen:
            raise FeedError(f"{path}: the column {name!r} appears twice.")
        seen.add(name)
        if name == "stock":
            raise FeedError(f"{path}: give stock as one column per warehouse, {STOCK_PREFIX}<code> (e.g. {STOCK_PREFIX}EWR1).")
        if name.startswith(STOCK_PREFIX):
            if name[len(STOCK_PREFIX):] not in warehouses:
                known = ", ".join(sorted(warehouses)) or "none yet"
                raise FeedError(f"{path}: column {name!r}: no warehouse has that code (warehouses: {known}).")
        elif not name.startswith(ATTRIBUTE_PREFIX) and name not in FIELDS:
            raise FeedError(
                f"{path}: unknown column {name!r}. Columns are {', '.join(FIELDS[:-1])}, "
                f"{ATTRIBUTE_PREFIX}<name> and {STOCK_PREFIX}<warehouse code>."
            )
    if "sku" not in seen:
        raise FeedError(f"{path}: the file has no 'sku' column: products are matched by SKU.")


def _jsonl_rows(handle, path, warehouses):
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
        except ValueError as error:
            yield line, Rejected("", f"not JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(raw, dict):
            yield line, Rejected("", "each line is one JSON object")
            continue
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            yield line, Rejected(unknown[0], f"unknown field; fields are {', '.join(FIELDS)}")
            continue
        yield line, raw
