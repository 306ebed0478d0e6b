"""The API's JSON parser: every malformed body is a 400 in the API's error shape.

DRF's parser turns a ``ValueError`` into a ``ParseError`` but lets a
``RecursionError`` through: Python's decoder recurses once per nesting level,
so a body of 50,000 ``[`` was a 500. It is set as the default in
``REST_FRAMEWORK`` and wherever a view names its parsers.
"""
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
