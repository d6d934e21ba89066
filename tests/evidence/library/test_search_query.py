"""The query language is read the same whatever is typed, and written out as syntax each database accepts."""

import pytest

from evidence.library.search_query import MAX_TERMS, Query, Term, fts5_match, parse, tsquery, words


def w(*words, prefix=False):
    return Term(tuple(words), prefix=prefix)


PARSED = (
    ("carers respite", Query(groups=((w("carers"),), (w("respite", prefix=True),)))),
    ('"wait too long"', Query(groups=((w("wait", "too", "long"),),))),
    ('"unclosed phrase', Query(groups=((w("unclosed", "phrase"),),))),
    ("carers -respite", Query(groups=((w("carers"),),), excluded=(w("respite"),))),
    ('-"home care" reablement', Query(groups=((w("reablement", prefix=True),),), excluded=(w("home", "care"),))),
    ("carers OR families plan", Query(groups=((w("carers"), w("families")), (w("plan", prefix=True),)))),
    ("disch* team", Query(groups=((w("disch", prefix=True),), (w("team", prefix=True),)))),
    ("Café NAÏVE", Query(groups=((w("cafe"),), (w("naive", prefix=True),)))),
    ("covid-19 plan", Query(groups=((w("covid", "19"),), (w("plan", prefix=True),)))),
    ("E-012", Query(groups=((Term(("e", "12"), reference=True),),))),
    # OR that joins nothing, or joins an exclusion, is the word "or"; lowercase "or" is always a word.
    ("OR carers", Query(groups=((w("or"),), (w("carers", prefix=True),)))),
    ("carers OR", Query(groups=((w("carers"),), (w("or", prefix=False),)))),
    ("a or b", Query(groups=((w("a"),), (w("or"),), (w("b", prefix=True),)))),
    # Punctuation, operators of other languages and SQL are text, or nothing.
    ("*", Query()),
    ("-", Query()),
    ('""', Query()),
    ("%%% ___ !!!", Query()),
    ("NEAR(a b) AND(", Query(groups=((w("near", "a"),), (w("b"),), (w("and", prefix=True),)))),
    ("'; DROP TABLE evidence_item; --", Query(groups=((w("drop"),), (w("table"),), (w("evidence", "item"),)))),
)


@pytest.mark.parametrize(("q", "expected"), PARSED)
def test_what_is_typed_is_read_as_the_hint_says(q, expected):
    assert parse(q) == expected


def test_words_fold_case_and_latin_accents_and_split_at_punctuation():
    assert words("Zoë's CAFÉ, Siân & Łódź: 1.5 😀") == ("zoe", "s", "cafe", "sian", "łodz", "1", "5")
    assert words("cafe\u0301") == ("cafe",)  # a combining accent, as some keyboards send it


def test_a_query_stops_at_the_most_terms():
    query = parse(" ".join(f"word{i}" for i in range(MAX_TERMS + 5)))
    assert len(query.groups) == MAX_TERMS and query.ignored == 5


def test_every_word_is_quoted_in_what_the_databases_read():
    query = parse('carers OR "home care" -respite disch*')
    assert fts5_match(query) == (
        '(({title body detail} : "carers" OR {title body detail} : "home care") AND ({title body detail} : "disch"*))'
        ' NOT ({title body detail} : "respite")',
        None,
    )
    assert tsquery(query) == ("(('carers':ABC) | ('home':ABC <-> 'care':ABC)) & (('disch':*ABC)) & !('respite':ABC)")
    # "Not" alone: FTS5 needs it apart; the reference column only for a reference.
    assert fts5_match(parse("-respite")) == (None, '({title body detail} : "respite")')
    assert fts5_match(parse("E-4")) == ('(reference : "e 4")', None)
