"""The quality statement pages: reading, scoring with citations, preview, conflicts, mappings and actions."""

import re
from datetime import timedelta
from html import unescape

import pytest

from evidence import audit
from evidence.assessment.assessments import find_assessment
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.models import Action, Mapping, today
from evidence.vocab import ActionStatus, Role, Stance, Status
from tests.conftest import sign_in
from tests.factories import make_action, make_item, make_round, statement

KEY = "safe-pathways"


def text_of(response) -> str:
    """The page's visible text, tags removed, whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(response, element_id: str) -> str:
    """The HTML of the element with this id, up to the next card."""
    html = response.get_data(as_text=True)
    start = html.index(f'id="{element_id}"')
    end = html.find('<section class="card"', start + 1)
    return html[start : end if end != -1 else None]


def form_data(**overrides):
    data = {
        "version": "0",
        "score": "",
        "rationale": "",
        "key_findings": "",
        "strengths": "",
        "areas_for_improvement": "",
        "override_reason": "",
        "save": "Save assessment",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


@pytest.fixture
def round_(app):
    return make_round("Winter 2026 self-assessment")


def save_url(round_, key=KEY):
    return f"/statements/{key}/assessment/{round_.id}"


# --- Reading ---------------------------------------------------------------------


def test_the_list_shows_themes_statements_scores_and_evidence_counts(client, login):
    login(Role.MANAGER)
    make_item("Fresh", mappings=[(KEY, "processes", Stance.STRENGTH), (KEY, "partners", Stance.CONTEXT)])
    make_item("Old", review_by=today() - timedelta(days=1), mappings=[(KEY, "processes", Stance.SHORTFALL)])
    make_round(scores={KEY: 3})
    response = client.get("/statements")
    assert response.status_code == 200
    page = text_of(response)
    assert "How the local authority ensures safety within the system" in page
    row = section(response, "theme-ensuring-safety")
    assert "Safe pathways, systems and transitions" in row
    row_text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row)))
    assert "Safe pathways, systems and transitions 3 Evidence shows a good standard 2 1 stale" in row_text


def test_the_statement_page_shows_its_framework_text_and_evidence(client, login, round_):
    login(Role.MANAGER)
    strength = make_item("Discharge within 7 days", mappings=[(KEY, "processes", Stance.STRENGTH)])
    stale = make_item(
        "Hospital discharge survey",
        review_by=today() - timedelta(days=10),
        mappings=[(KEY, "peoples-experience", Stance.SHORTFALL)],
    )
    make_item("Not yet reviewed", status=Status.SUBMITTED, mappings=[(KEY, "processes", Stance.STRENGTH)])
    response = client.get(f"/statements/{KEY}")
    assert response.status_code == 200
    page = text_of(response)
    assert "How the local authority ensures safety within the system" in page
    assert "The local authority commitment" in page and statement(KEY).we_statement in page
    assert "What people expect" in page and statement(KEY).i_statements[0] in page
    processes = section(response, "cat-processes")
    assert strength.reference in processes and "Discharge within 7 days" in processes
    assert "tag--strength" in processes
    assert "Not yet reviewed" not in page
    people = section(response, "cat-peoples-experience")
    assert stale.reference in people and "tag--shortfall" in people and "Stale" in people


def test_leadership_statements_have_no_i_statements(client, login):
    login(Role.MANAGER)
    page = text_of(client.get("/statements/governance"))
    assert "What people expect" in page and "has no “I” statements" in page


def test_unknown_statement_is_404(client, login):
    login(Role.MANAGER)
    assert client.get("/statements/no-such-thing").status_code == 404


def test_managers_read_but_cannot_edit(client, login, round_):
    login(Role.MANAGER)
    page = client.get(f"/statements/{KEY}").get_data(as_text=True)
    assert 'id="edit"' not in page and "Map evidence to this statement" not in page
    assert client.post(save_url(round_), data=form_data(score=3)).status_code == 403
    assert find_assessment(round_, statement(KEY)) is None


# --- Scoring -----------------------------------------------------------------------


def test_a_score_is_saved_and_shown_with_its_label(client, login, round_):
    user = login(Role.QUALITY_LEAD)
    item = make_item("Transitions audit")
    response = client.post(save_url(round_), data=form_data(score=3, rationale=f"Audit shows it [{item.reference}]."))
    assert response.status_code == 302
    assessment = find_assessment(round_, statement(KEY))
    assert assessment.score == 3 and assessment.updated_by_id == user.id
    page = client.get(f"/statements/{KEY}")
    assessment_html = section(page, "assessment")
    assert "Evidence shows a good standard" in assessment_html
    assert re.search(rf'<a class="citation" href="[^"]*">\[{item.reference}\]</a>', assessment_html)
    assert "Assessment of Safe pathways, systems and transitions saved." in text_of(page)
    # The change is in the statement's history.
    assert "written in “Winter 2026 self-assessment”" in section(page, "history-heading")


def test_citing_unknown_evidence_refuses_the_save_and_keeps_the_text(client, login, round_):
    login(Role.QUALITY_LEAD)
    good = make_item("Accepted")
    text = f"Strong [{good.reference}] but see [E-9999]."
    response = client.post(save_url(round_), data=form_data(score=3, rationale=text))
    assert response.status_code == 422
    page = text_of(response)
    assert "Cannot cite E-9999 (does not exist)." in page
    assert good.reference + " (does not" not in page
    assert text in unescape(response.get_data(as_text=True))  # still in the form
    assert find_assessment(round_, statement(KEY)) is None


def test_citing_evidence_that_is_not_accepted_refuses_the_save(client, login, round_):
    login(Role.QUALITY_LEAD)
    pending = make_item("Pending", status=Status.SUBMITTED)
    response = client.post(save_url(round_), data=form_data(score=2, key_findings=f"See [{pending.reference}]"))
    assert response.status_code == 422
    assert f"Cannot cite {pending.reference} (is submitted, not accepted)." in text_of(response)
    assert find_assessment(round_, statement(KEY)) is None


def test_markdown_is_sanitised_on_the_page(client, login, round_):
    login(Role.QUALITY_LEAD)
    hostile = (
        "Fine <script>alert('x')</script> text\n\n"
        '<img src="x" onerror="alert(1)"> <a href="#" onclick="steal()">click</a>\n\n'
        "[a link](javascript:alert(2)) and **bold**"
    )
    response = client.post(save_url(round_), data=form_data(score=2, rationale=hostile))
    assert response.status_code == 302
    # Read it as a manager, who sees the rendered text without the edit form.
    client.post("/sign-out")
    login(Role.MANAGER)
    rendered = section(client.get(f"/statements/{KEY}"), "assessment")
    assert "<script" not in rendered.lower()
    assert "onerror" not in rendered and "onclick" not in rendered
    assert "javascript:" not in rendered
    assert "<strong>bold</strong>" in rendered and "Fine" in rendered


def test_preview_renders_sanitised_text_and_keeps_the_form_without_saving(client, login, round_):
    login(Role.QUALITY_LEAD)
    data = form_data(score=4, rationale="**Strong** <script>alert(1)</script> [E-777]")
    data.pop("save")
    data["preview"] = "Preview"
    response = client.post(save_url(round_), data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = html[html.index('id="preview"') : html.index("<form", html.index('id="preview"'))]
    assert "<strong>Strong</strong>" in preview and "<script" not in preview
    assert "E-777 does not exist" in preview  # warned before saving
    assert "**Strong** &lt;script&gt;alert(1)&lt;/script&gt; [E-777]" in html  # kept in the form
    assert find_assessment(round_, statement(KEY)) is None


def test_category_scores_suggest_a_score_and_an_override_needs_a_reason(client, login, round_):
    login(Role.QUALITY_LEAD)
    categories = {
        "category_peoples_experience": 4,
        "category_staff_leaders": 4,
        "category_partners": 3,
        "category_processes": 4,
    }
    response = client.post(save_url(round_), data=form_data(score=3, **categories))
    assert response.status_code == 422
    assert "The category scores suggest 4; you chose 3" in text_of(response)
    assert "Suggested statement score: 4" in text_of(response)
    assert find_assessment(round_, statement(KEY)) is None

    response = client.post(
        save_url(round_), data=form_data(score=3, override_reason="A serious incident in May.", **categories)
    )
    assert response.status_code == 302
    saved = find_assessment(round_, statement(KEY))
    assert saved.category_scores == {"peoples-experience": 4, "staff-leaders": 4, "partners": 3, "processes": 4}
    page = text_of(client.get(f"/statements/{KEY}"))
    assert "Suggested from categories 4" in page and "A serious incident in May." in page


def test_one_save_reports_every_problem_at_once(client, login, round_):
    """The missing override reason, a cited item that is not accepted and one that does not exist: all in one go."""
    login(Role.QUALITY_LEAD)
    submitted = make_item("Carers' assessments at discharge", status=Status.SUBMITTED)
    categories = {"category_peoples_experience": 4, "category_staff_leaders": 4}
    rationale = f"Strong carers' feedback [{submitted.reference}] and the discharge audit [E-99999]."
    response = client.post(save_url(round_), data=form_data(score=2, rationale=rationale, **categories))
    assert response.status_code == 422
    page = text_of(response)
    summary = page[page.index("There is a problem") :]
    assert "The category scores suggest 4; you chose 2. Say why" in summary
    assert f"Cannot cite {submitted.reference} (is submitted, not accepted); E-99999 (does not exist)." in summary
    assert "Not saved: check the 2 fields marked below." in page
    assert find_assessment(round_, statement(KEY)) is None
    html = response.get_data(as_text=True)
    assert 'id="override_reason-error"' in html and 'id="rationale-error"' in html  # each beside its field


def test_invalid_score_is_refused(client, login, round_):
    login(Role.QUALITY_LEAD)
    response = client.post(save_url(round_), data=form_data(score=7))
    assert response.status_code == 422
    assert find_assessment(round_, statement(KEY)) is None


def test_concurrent_edits_never_overwrite_silently(app, round_, make_user):
    ann_client, bob_client = app.test_client(), app.test_client()
    sign_in(ann_client, make_user(Role.QUALITY_LEAD, name="Ann Lead"))
    sign_in(bob_client, make_user(Role.QUALITY_LEAD, name="Bob Lead"))
    # Both open the page when there is no assessment yet: the form carries version 0.
    for c in (ann_client, bob_client):
        assert 'name="version" type="hidden" value="0"' in c.get(f"/statements/{KEY}").get_data(as_text=True)

    bob_saves = bob_client.post(save_url(round_), data=form_data(score=2, rationale="Bob's careful rationale"))
    assert bob_saves.status_code == 302
    # A preview from the older version already warns that someone else has saved.
    preview = form_data(score=4, rationale="Ann's own rationale")
    del preview["save"]
    preview["preview"] = "Preview"
    warned = text_of(ann_client.post(save_url(round_), data=preview))
    assert "Bob Lead has saved this assessment since you opened it" in warned
    response = ann_client.post(save_url(round_), data=form_data(score=4, rationale="Ann's own rationale"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "Bob Lead saved this assessment after you opened it" in page
    conflict = section(response, "conflict")
    assert "Bob&#39;s careful rationale" in conflict or "Bob's careful rationale" in conflict
    assert "Their saved version" in conflict and "Your unsaved version" in conflict
    # Ann's text is still in the form, which now carries Bob's version.
    textarea = re.search(r'<textarea[^>]*name="rationale"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert unescape(textarea).strip() == "Ann's own rationale"
    assert 'name="version" type="hidden" value="1"' in html
    assert find_assessment(round_, statement(KEY)).rationale == "Bob's careful rationale"

    # Having seen Bob's version, Ann can deliberately save hers over it.
    again = form_data(score=4, rationale="Ann's own rationale, having read Bob's", version=1)
    assert ann_client.post(save_url(round_), data=again).status_code == 302
    assert find_assessment(round_, statement(KEY)).version == 2


def test_a_signed_off_round_cannot_be_edited_from_the_page(client, login, make_user, round_):
    login(Role.QUALITY_LEAD)
    client.post(save_url(round_), data=form_data(score=2, rationale="As signed off"))
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    page = client.get(f"/statements/{KEY}")
    assert "This round was signed off" in text_of(page)
    assert 'id="edit"' not in page.get_data(as_text=True)
    response = client.post(
        save_url(round_), data=form_data(score=4, rationale="Changed", version=1), follow_redirects=True
    )
    assert "nothing in it can be edited" in text_of(response)
    assert find_assessment(round_, statement(KEY)).rationale == "As signed off"


# --- Mappings -----------------------------------------------------------------------


def test_map_and_unmap_evidence_from_the_statement_page(client, login, round_):
    user = login(Role.QUALITY_LEAD)
    item = make_item("Partner forum notes")
    response = client.post(
        f"/statements/{KEY}/mappings",
        data={
            "map-reference": item.reference,
            "map-category": "partners",
            "map-stance": "strength",
            "map-note": "Forum",
        },
        follow_redirects=True,
    )
    assert f"Mapped {item.reference} to Safe pathways, systems and transitions" in text_of(response)
    mapping = db.session.query(Mapping).one()
    assert mapping.category.key == "partners" and mapping.stance == Stance.STRENGTH and mapping.note == "Forum"
    assert audit.history("mapping", mapping.id)[0].user_id == user.id
    assert item.reference in section(client.get(f"/statements/{KEY}"), "cat-partners")

    response = client.post(f"/statements/{KEY}/mappings/{mapping.id}/remove", follow_redirects=True)
    assert f"Removed {item.reference}" in text_of(response)
    assert db.session.query(Mapping).count() == 0
    assert [e.action for e in audit.history("mapping", mapping.id)] == ["delete", "create"]


def test_mapping_a_bad_reference_changes_nothing(client, login, round_):
    login(Role.QUALITY_LEAD)
    pending = make_item("Pending", status=Status.SUBMITTED)
    for reference, message in [
        ("E-4040", "There is no evidence item E-4040."),
        (pending.reference, "only accepted evidence can be mapped"),
        ("twelve", "Write the reference as E- and its number"),
    ]:
        response = client.post(
            f"/statements/{KEY}/mappings",
            data={"map-reference": reference, "map-category": "partners", "map-stance": "strength"},
        )
        assert response.status_code == 422
        assert message in text_of(response)
    assert db.session.query(Mapping).count() == 0


def test_removing_a_mapping_of_another_statement_is_404(client, login):
    login(Role.QUALITY_LEAD)
    item = make_item("Elsewhere", mappings=[("equity", "partners", Stance.STRENGTH)])
    assert client.post(f"/statements/{KEY}/mappings/{item.mappings[0].id}/remove").status_code == 404
    assert db.session.query(Mapping).count() == 1


# --- Actions ------------------------------------------------------------------------


def test_add_and_edit_an_improvement_action(client, login, round_):
    login(Role.QUALITY_LEAD)
    due = (today() + timedelta(days=30)).isoformat()
    response = client.post(
        f"/statements/{KEY}/actions",
        data={
            "action-description": "Joint discharge audit",
            "action-owner": "Hospital team",
            "action-due_date": due,
            "action-status": "open",
        },
        follow_redirects=True,
    )
    assert "Improvement action added." in text_of(response)
    action = db.session.query(Action).one()
    assert action.round_id == round_.id and action.owner == "Hospital team"

    response = client.post(
        f"/statements/{KEY}/actions/{action.id}/edit",
        data={
            "description": "Joint discharge audit",
            "owner": "Hospital team",
            "due_date": due,
            "status": "in_progress",
        },
        follow_redirects=True,
    )
    assert "Action updated." in text_of(response)
    db.session.refresh(action)
    assert action.status == ActionStatus.IN_PROGRESS
    history = section(client.get(f"/statements/{KEY}"), "history-heading")
    assert "Status changed from Open to In progress" in history
    assert "Action added to Safe pathways" in history


def test_an_action_needs_a_description_and_owner(client, login, round_):
    login(Role.QUALITY_LEAD)
    response = client.post(f"/statements/{KEY}/actions", data={"action-description": "", "action-owner": ""})
    assert response.status_code == 422
    assert "Say what will be done." in text_of(response)
    assert db.session.query(Action).count() == 0


def test_overdue_actions_are_flagged_on_the_statement_page(client, login, round_):
    login(Role.MANAGER)
    make_action(KEY, "Late review", due_date=today() - timedelta(days=2), round_id=round_.id)
    make_action(KEY, "On time", due_date=today() + timedelta(days=2), round_id=round_.id)
    actions = section(client.get(f"/statements/{KEY}"), "actions")
    assert "1 overdue" in actions
    late_row = actions[actions.index("Late review") : actions.index("</tr>", actions.index("Late review"))]
    assert "tag--overdue" in late_row
    on_time_row = actions[actions.index("On time") : actions.index("</tr>", actions.index("On time"))]
    assert "tag--overdue" not in on_time_row


def test_actions_of_a_signed_off_round_cannot_be_edited(client, login, make_user, round_):
    login(Role.QUALITY_LEAD)
    action = make_action(KEY, "Frozen", round_id=round_.id)
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    response = client.post(
        f"/statements/{KEY}/actions/{action.id}/edit",
        data={"description": "Changed", "owner": "X", "status": "done"},
        follow_redirects=True,
    )
    assert "nothing in it can be edited" in text_of(response)
    db.session.refresh(action)
    assert action.description == "Frozen" and action.status == ActionStatus.OPEN
