"""From what a shopper typed to the terms every backend matches.

A query is a list of ``Term``s; a product matches a term when it has any of
the term's alternatives (a word, or a phrase of words in a row). The rules
here are the same for PostgreSQL, SQLite and Elasticsearch, which only render
the terms in their own syntax:

* numbers with units meet however they are written: "64gb", "64 GB" and
  "64-GB" are all ``64gb``; "2.4 GHz" is ``2p4ghz`` (one token for every
  full-text parser: a dot would split it);
* hyphenated words also match joined ("t-shirt" finds "tshirt" and
  "T-Shirt"); two typed words that the catalog writes as one ("wi fi", "usb c")
  match the joined word too;
* irregular plurals meet their singular (mice / mouse), which stemmers miss;
* staff synonyms (``SearchSynonym``: "tv, television") are alternatives of
  each other;
* stop words ("the", "for") are not terms: no backend indexes them.

Documents get the same treatment through ``variants``: the joined forms of a
text's hyphenated words and measured numbers, indexed beside the text itself
(PostgreSQL computes them in SQL, see ``POSTGRES_VARIANTS``).
"""
import re
import unicodedata
from dataclasses import dataclass

MAX_TERMS = 10

# Unit spellings -> the canonical unit a measured number is joined with.
UNITS = {
    "gb": "gb", "gig": "gb", "gigs": "gb", "tb": "tb", "mb": "mb", "kb": "kb",
    "ghz": "ghz", "mhz": "mhz", "hz": "hz", "mah": "mah", "mp": "mp",
    "w": "w", "watt": "w", "watts": "w", "v": "v", "volt": "v", "volts": "v",
    "in": "in", "inch": "in", "inches": "in", '"': "in", "ft": "ft", "foot": "ft", "feet": "ft",
    "mm": "mm", "cm": "cm", "m": "m",
    "ml": "ml", "l": "l", "liter": "l", "liters": "l", "litre": "l", "litres": "l",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "g": "g", "gram": "g", "grams": "g", "kg": "kg", "qt": "qt", "quart": "qt",
    "pc": "pc", "pcs": "pc", "piece": "pc", "pieces": "pc", "pack": "pack", "count": "ct", "ct": "ct",
}
# Longest first, so that "inches" is not read as "in" + "ches".
_UNIT_ALTERNATION = "|".join(sorted((re.escape(unit) for unit in UNITS), key=len, reverse=True))
_MEASURE = re.compile(
    rf"(?<![\w.])(\d+(?:[.,]\d+)?)[\s-]?({_UNIT_ALTERNATION})(?![^\W_])", re.IGNORECASE | re.UNICODE
)
_HYPHENATED = re.compile(r"(?<![\w.])[^\W_]+(?:-[^\W_]+)+", re.UNICODE)
# "Case for Nova Phone": what follows "for" says what a product is for, not what it is.
_FOR = r"\s(?:for|compatible with|fits)\s"
# The title's first segment ends here; its last word names the kind of product.
_SEGMENT_END = r"(?:,|\s[-–|/(]|\(|\swith\s)"
_FOR_PATTERN = re.compile(_FOR, re.IGNORECASE)
_SEGMENT_END_PATTERN = re.compile(_SEGMENT_END, re.IGNORECASE)
_DIGIT = re.compile(r"\d", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)

# Plural -> singular where a stemmer does not bring them together.
IRREGULAR_PLURALS = {
    "mice": "mouse", "knives": "knife", "wives": "wife", "lives": "life", "leaves": "leaf",
    "loaves": "loaf", "shelves": "shelf", "halves": "half", "wolves": "wolf", "scarves": "scarf",
    "men": "man", "women": "woman", "children": "child", "kids": "kid", "feet": "foot",
    "teeth": "tooth", "geese": "goose", "people": "person", "dice": "die", "oxen": "ox",
    "cacti": "cactus", "fungi": "fungus", "indices": "index", "matrices": "matrix",
}
SINGULAR_TO_PLURAL = {singular: plural for plural, singular in IRREGULAR_PLURALS.items()}

# PostgreSQL's English stop words (tsearch_data/english.stop): never indexed there.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why how all
    any both each few more most other some such no nor not only own same so than too very s t can will
    just don should now""".split()
)


@dataclass(frozen=True)
class Term:
    """One word of the query and what else counts as it; each alternative is a
    tuple of words that must appear in a row (one word, most often)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False  # the last word, still being typed: matched as a prefix

    @property
    def words(self) -> set[str]:
        return {word for alternative in self.alternatives for word in alternative}


def measure(number: str, unit: str) -> str:
    return number.replace(",", "p").replace(".", "p") + UNITS[unit.lower()]


def variants(text: str) -> str:
    """The joined forms a document is also indexed under (see the module docstring)."""
    # The guards skip the patterns a text cannot match (no digit, no hyphen):
    # most descriptions, and a bulk import runs this four times per product.
    forms = [measure(number, unit) for number, unit in _MEASURE.findall(text)] if _DIGIT.search(text) else []
    if "-" in text:
        forms += [word.replace("-", "") for word in _HYPHENATED.findall(text)]
    return " ".join(form.lower() for form in forms)


def title_head(title: str) -> str:
    """The part of a title that says what the product is, and once more its kind (the
    first segment's last word): indexed with the title's weight."""
    head = _FOR_PATTERN.split(title, maxsplit=1)[0]
    segment = _SEGMENT_END_PATTERN.split(head, maxsplit=1)[0]
    if _DIGIT.search(segment):
        segment = _MEASURE.sub(" ", segment)
    kind = _LETTERS.findall(segment)
    return f"{head} {kind[-1]}" if kind else head


def title_for(title: str) -> str:
    """What a title says the product is for: indexed with the brand's (lower) weight."""
    parts = _FOR_PATTERN.split(title, maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def normalise_query(q: str) -> str:
    """Measured numbers and hyphenated words joined, the way ``variants`` indexes them."""
    q = _MEASURE.sub(lambda match: " " + measure(*match.groups()) + " ", q)
    return _HYPHENATED.sub(lambda match: match.group(0).replace("-", ""), q)


def plain_words(text: str) -> list[str]:
    """Lowercase runs of letters and digits. Number signs that are not digits
    ("²", "½", "①") part words as punctuation does: PostgreSQL indexes none of them."""
    text = "".join(" " if unicodedata.category(char) == "No" else char for char in text)
    return [word.lower() for word in _WORD.findall(text)]


def words(q: str) -> list[str]:
    return plain_words(normalise_query(q))


def terms(q: str, *, synonyms: dict[str, tuple[str, ...]] | None = None, joined=frozenset(), prefix=False) -> list[Term]:
    """The query's terms, in order.

    ``synonyms`` maps a word or a two-word phrase to the phrases it is
    equivalent to; ``joined`` holds catalog words that are two typed words
    written as one ("wifi"); ``prefix`` marks the last word as unfinished.
    """
    synonyms = synonyms or {}
    typed = [word for word in words(q)]
    result, position = [], 0
    while position < len(typed) and len(result) < MAX_TERMS:
        word = typed[position]
        pair = typed[position : position + 2]
        if len(pair) == 2 and ("".join(pair) in joined or " ".join(pair) in synonyms):
            alternatives = {tuple(pair), ("".join(pair),)}
            alternatives.update(tuple(phrase.split()) for phrase in synonyms.get(" ".join(pair), ()))
            result.append(Term(" ".join(pair), _ordered(alternatives)))
            position += 2
            continue
        position += 1
        if word in STOP_WORDS:
            continue
        alternatives = {(word,)}
        for form in (IRREGULAR_PLURALS.get(word), SINGULAR_TO_PLURAL.get(word)):
            if form:
                alternatives.add((form,))
        alternatives.update(tuple(phrase.split()) for phrase in synonyms.get(word, ()))
        result.append(Term(word, _ordered(alternatives)))
    if prefix and result and len(result[-1].alternatives) == 1 and len(result[-1].alternatives[0]) == 1:
        last = result[-1]
        result[-1] = Term(last.text, last.alternatives, prefix=True)
    return result


def required_matches(count: int) -> int:
    """Minimum-should-match: of three or more terms, three in four must match (ES's "2<75%")."""
    return count if count <= 2 else max(2, count * 3 // 4)


def _ordered(alternatives):
    return tuple(sorted(alternatives, key=lambda alternative: (len(alternative), alternative)))


def postgres_variants_sql() -> str:
    """``variants``, ``title_head`` and ``title_for`` in SQL (``catalog_search_*``), for the projection's triggers.

    Generated from the same tables as the Python, and compared with it by a test.
    """
    units = " ".join(f"WHEN {_sql_literal(spelling)} THEN {_sql_literal(unit)}" for spelling, unit in UNITS.items())
    # PostgreSQL's ARE: the same patterns, with \w spelled out (it has no
    # [^\W_]), and the look-behind written as a group that is matched: the
    # look-behind made every call ten times slower, and the triggers call
    # these for every product written.
    boundary = "(^|[^[:alnum:]_.])"
    measure_pattern = rf"{boundary}([0-9]+(?:[.,][0-9]+)?)[[:space:]-]?({_UNIT_ALTERNATION})(?![[:alnum:]])"
    hyphenated_pattern = rf"{boundary}([[:alnum:]]+(?:-[[:alnum:]]+)+)"
    # A number and any word after it, the word then looked up (not a unit:
    # NULL, which string_agg skips): one alternation of fifty units cost most
    # of each call.
    any_measure_pattern = rf'{boundary}([0-9]+(?:[.,][0-9]+)?)[[:space:]-]?([[:alpha:]]+|")(?![[:alnum:]])' 
    return f"""
    CREATE OR REPLACE FUNCTION catalog_search_variants(body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT concat_ws(' ',
        CASE WHEN body ~ '[0-9]' THEN
          (SELECT string_agg(translate(m[2], '.,', 'pp') || CASE lower(m[3]) {units} END, ' ')
             FROM regexp_matches(body, {_sql_literal(any_measure_pattern)}, 'g') AS m) END,
        CASE WHEN strpos(body, '-') > 0 THEN
          (SELECT string_agg(lower(replace(m[2], '-', '')), ' ')
             FROM regexp_matches(body, {_sql_literal(hyphenated_pattern)}, 'g') AS m) END)
    $$;
    CREATE OR REPLACE FUNCTION catalog_search_title_head(title text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN kind IS NULL THEN head ELSE head || ' ' || kind END FROM (
        SELECT head, substring(regexp_replace(regexp_replace(head, {_sql_literal(_SEGMENT_END + '.*$')}, '', 'i'),
                                              {_sql_literal(measure_pattern)}, '\\1 ', 'gi')
                               FROM '([[:alpha:]]+)[^[:alpha:]]*$') AS kind
          FROM (SELECT regexp_replace(title, {_sql_literal(_FOR + '.*$')}, '', 'i') AS head) h) k
    $$;
    CREATE OR REPLACE FUNCTION catalog_search_title_for(title text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(substring(title FROM {_sql_literal('(?i)' + _FOR + '(.*)$')}), '')
    $$
    """


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
