"""Evidence references: written from ids, read back, and bounded to ids an item can have."""

from evidence.bounds import MAX_ID
from evidence.library.citations import cited_ids, cited_references, findable, reference, reference_id


def test_references_parse_back_to_ids():
    assert reference_id("E-12") == 12
    assert reference_id(" e-7 ") == 7
    assert reference_id("E12") is None
    assert reference_id("X-1") is None


def test_a_reference_is_written_the_way_people_cite_it():
    assert reference(12) == "E-12"
    assert reference_id(reference(MAX_ID)) == MAX_ID


def test_numbers_no_item_can_have_are_read_but_never_findable():
    assert findable(1) and findable(MAX_ID)
    assert not findable(0) and not findable(MAX_ID + 1) and not findable(None)
    # Thousands of digits are read as a number beyond every id, not refused by int().
    assert not findable(reference_id("E-" + "9" * 5000))
    assert reference_id("E-" + "0" * 40 + "12") == 12


def test_citations_are_found_in_first_seen_order_without_repeats():
    text = "Strong [E-3] and [e-1]; again [E-3]. Not a citation: E-9, [E9]."
    assert cited_references(text, "[E-2]") == ["E-3", "E-1", "E-2"]
    assert cited_ids(text) == [3, 1]
