"""The library's query language, parsed into a small tree and written out for each database's full-text search.

What people may type (the library page's hint says the same):

- words, all of which must be found: ``carers respite``
- ``"a quoted phrase"``, its words side by side in that order (an unclosed quote runs to the end)
- ``-word`` or ``-"a phrase"``: leave out what holds it
- ``OR`` (capitals) between two words or phrases: either will do
- ``word*``: words beginning so; the last word typed is taken that way too, so ``disch`` finds discharge
- a reference such as ``E-12``: that item

Everything else is text: punctuation separates words, and no character reaches a database as syntax.
A word is a run of letters and digits, lowercased, with the accents of Latin letters taken off, so
``Café`` and ``cafe`` are the same word; a word written with punctuation inside (``covid-19``, ``1.5``)
is the phrase of its parts, as the index stores it. The search stops at ``MAX_TERMS`` terms.

Both writers quote every word, so what the tree holds is always valid syntax for the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from evidence.library import citations

MAX_INPUT = 1_000  # characters of the query read; the forms allow fewer
MAX_TERMS = 16  # words and phrases searched for, the rest ignored
MAX_PHRASE_WORDS = 10
MAX_WORD = 100  # characters; a longer word is searched for by its beginning
OR = "OR"

# Latin letters with accents, and their plain letter: the one folding both databases apply (PostgreSQL
# through translate() in the index, so no extension is needed), and the query's words with it.
_LATIN = [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]


def _plain(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 and base.isascii() and base.isalpha() else ""


ACCENTED = "".join(chr(cp) for cp in _LATIN if _plain(chr(cp)))
UNACCENTED = "".join(_plain(ch) for ch in ACCENTED)
_UNACCENT = str.maketrans(ACCENTED, UNACCENTED)

# A quoted phrase (maybe negated, maybe unclosed) or a run of anything but space and quotes.
_LEXEME = re.compile(r'(-?)"([^"]*)"?|([^\s"]+)')


@dataclass(frozen=True)
class Term:
    """Words side by side (one word, or a phrase); ``prefix``: the last may begin a longer word."""

    words: tuple[str, ...]
    prefix: bool = False
    reference: bool = False  # an item's reference (E-12), matched against references only


@dataclass(frozen=True)
class Query:
    """Every group must match (a group: terms of which any will do); no excluded term may."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    ignored: int = field(default=0, compare=False)  # terms past MAX_TERMS

    @property
    def empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def max_terms(self) -> int:
        return MAX_TERMS


def words(text: str) -> tuple[str, ...]:
    """The words of a text as the index holds them: letters and digits, lowercased, Latin accents off."""
    folded = unicodedata.normalize("NFC", text).translate(_UNACCENT).lower()
    found, current = [], []
    for ch in folded:
        if unicodedata.category(ch)[0] in "LN":
            current.append(ch)
        elif current and unicodedata.combining(ch):
            continue  # a combining accent left on a letter belongs to its word
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return tuple(found)


def _term(text: str, *, prefix: bool, starred: bool = False) -> Term | None:
    item_id = None if starred else citations.reference_id(text)
    if item_id is not None:
        return Term(("e", str(item_id)), reference=True)
    found = words(text)[:MAX_PHRASE_WORDS]
    if not found:
        return None
    if len(found[-1]) > MAX_WORD:
        found, prefix = (*found[:-1], found[-1][:MAX_WORD]), True
    return Term(tuple(w[:MAX_WORD] for w in found), prefix=prefix)


def parse(q: str | None) -> Query:
    """The tree of what a person typed; never fails, whatever the text."""
    # (negated, term) for each term, OR where it joins; a lexeme without words drops out.
    items: list[tuple[bool, Term] | str] = []
    lexemes = list(_LEXEME.finditer((q or "")[:MAX_INPUT].replace("\x00", " ")))
    for index, lexeme in enumerate(lexemes):
        negated, phrase, bare = lexeme.group(1) == "-", lexeme.group(2), lexeme.group(3)
        if phrase is not None:
            term = _term(phrase, prefix=False)
        elif bare == OR:
            items.append(OR)
            continue
        else:
            negated = bare.startswith("-")
            text = bare.lstrip("-")
            # The last word typed may be unfinished: it finds the words it begins.
            last = index == len(lexemes) - 1 and not negated
            starred = text.endswith("*")
            term = _term(text.rstrip("*"), prefix=starred or last, starred=starred)
        if term is not None:
            items.append((negated, term))
    return _combine(items)


def _combine(items: list[tuple[bool, Term] | str]) -> Query:
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    count = ignored = 0
    joining = False
    for index, item in enumerate(items):
        if item == OR:
            after = items[index + 1] if index + 1 < len(items) else None
            before_ok = bool(groups) and isinstance(items[index - 1], tuple) and not items[index - 1][0]
            after_ok = isinstance(after, tuple) and not after[0]
            if before_ok and after_ok:
                joining = True
                continue
            item = (False, Term(("or",)))  # OR that joins nothing is the word
        negated, term = item
        if count >= MAX_TERMS:
            ignored += 1
            continue
        count += 1
        if negated:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    return Query(tuple(tuple(g) for g in groups), tuple(excluded), ignored)


# --- SQLite FTS5 ---------------------------------------------------------------------------------

# Words are looked for in the texts, references only in the reference column.
FTS_TEXT_COLUMNS = "{title body detail}"
FTS_REFERENCE_COLUMN = "reference"


def _fts_term(term: Term) -> str:
    phrase = '"' + " ".join(term.words).replace('"', '""') + '"' + ("*" if term.prefix else "")
    return f"{FTS_REFERENCE_COLUMN} : {phrase}" if term.reference else f"{FTS_TEXT_COLUMNS} : {phrase}"


def _fts_any(terms) -> str:
    return "(" + " OR ".join(_fts_term(t) for t in terms) + ")"


def fts5_match(query: Query) -> tuple[str | None, str | None]:
    """(what must match, what must not) as FTS5 MATCH expressions; FTS5 cannot say "not" alone,
    so the exclusions come apart when nothing else is asked for."""
    wanted = " AND ".join(_fts_any(group) for group in query.groups) or None
    unwanted = _fts_any(query.excluded) if query.excluded else None
    if wanted and unwanted:
        return f"({wanted}) NOT {unwanted}", None
    return wanted, unwanted


# --- PostgreSQL tsquery --------------------------------------------------------------------------

TS_TEXT_WEIGHTS = "ABC"  # title, body, detail
TS_REFERENCE_WEIGHT = "D"


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_term(term: Term) -> str:
    weights = TS_REFERENCE_WEIGHT if term.reference else TS_TEXT_WEIGHTS
    parts = [f"{_lexeme(w)}:{weights}" for w in term.words]
    if term.prefix:
        parts[-1] = f"{_lexeme(term.words[-1])}:*{weights}"
    return "(" + " <-> ".join(parts) + ")"


def tsquery(query: Query) -> str:
    """The query in to_tsquery's syntax; an empty query gives ''."""
    parts = ["(" + " | ".join(_ts_term(t) for t in group) + ")" for group in query.groups]
    parts += [f"!{_ts_term(t)}" for t in query.excluded]
    return " & ".join(parts)
