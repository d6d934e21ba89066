"""The action tracker: every improvement action across statements and rounds, filtered, edited in place,
downloaded as Excel or CSV."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from evidence.assessment import actions
from evidence.assessment.rounds import RoundFrozenError, all_rounds
from evidence.db import db
from evidence.framework_sync import statements_in_order
from evidence.models import Action, Round, utcnow
from evidence.wording import count
from exports import action_list
from portal import downloads
from portal.actions.forms import FILTERS, StatusForm, TrackerFilterForm
from portal.ids import id_arg
from portal.permissions import CURATORS, READERS, allow, has_role

bp = Blueprint("actions", __name__)

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


def _filters(args: MultiDict) -> tuple[TrackerFilterForm, actions.TrackerFilters]:
    rounds = all_rounds()
    form = TrackerFilterForm(args, owners=actions.owners(), statements=statements_in_order(), rounds=rounds)
    form.validate()
    round_id = id_arg(form.value("round"))
    filters = actions.TrackerFilters(
        owner=form.value("owner"),
        status=form.value("status"),
        statement=form.value("statement"),
        due=form.value("due"),
        round=db.session.get(Round, round_id) if round_id else None,
        sort=form.value("sort") or actions.SOONEST,
    )
    return form, filters


def _query(args: MultiDict) -> dict[str, str]:
    """The filters in use, as query arguments: what links and downloads carry."""
    return {name: args[name] for name in FILTERS if args.get(name)}


def heading(filters: actions.TrackerFilters, found: int, form: TrackerFilterForm) -> str:
    """What the list holds, in words: "2 overdue actions · Owner: Carers lead · Round: Spring 2027"."""
    words = count(found, "overdue action" if filters.due == actions.OVERDUE else "action")
    chosen = [
        f"{form[name].label.text}: {dict(form[name].choices)[form[name].data]}"
        for name in ("owner", "status", "statement", "due", "round")
        if form.value(name) and not (name == "due" and filters.due == actions.OVERDUE)
    ]
    return " · ".join([words, *chosen])


def _render(args: MultiDict, *, errors: dict[int, str] | None = None, status: int = 200):
    form, filters = _filters(args)
    rows = actions.tracked_actions(filters)
    query = _query(args)
    return (
        render_template(
            "actions/index.html",
            form=form,
            filters=filters,
            rows=rows,
            heading=heading(filters, len(rows), form),
            query=query,
            back=urlencode(query),
            errors=errors or {},
            can_edit=has_role(current_user, *CURATORS),
            status_form=StatusForm(formdata=None),
        ),
        status,
    )


@bp.route("/actions")
@allow(*READERS)
def index():
    return _render(request.args)


@bp.route("/actions/download.<fmt>")
@allow(*READERS)
def download(fmt: str):
    """The list as filtered, as an Excel workbook or CSV."""
    if fmt not in MIMETYPES:
        abort(404)
    form, filters = _filters(request.args)
    rows = actions.tracked_actions(filters)
    now = utcnow()
    if fmt == "xlsx":
        data = action_list.workbook(rows, now, heading(filters, len(rows), form))
    else:
        data = action_list.csv_file(rows)
    name = f"improvement-actions-{now:%Y-%m-%d}.{fmt}"
    return downloads.attachment(BytesIO(data), mimetype=MIMETYPES[fmt], name=name)


@bp.route("/actions/<int:action_id>/status", methods=["POST"])
@allow(*CURATORS)
def change_status(action_id: int):
    action = db.get_or_404(Action, action_id)
    form = StatusForm()
    back = MultiDict(parse_qsl(form.back.data or "", max_num_fields=len(FILTERS) * 2))
    if not form.validate():
        message = "; ".join(e for errors in form.errors.values() for e in errors)
        return _render(back, errors={action.id: f"Status not changed: {message}"}, status=422)
    what = action.description if len(action.description) <= 60 else action.description[:60].rstrip() + "…"
    try:
        changed = actions.set_status(action, form.status.data, current_user, form.version.data)
    except RoundFrozenError as error:
        return _render(back, errors={action.id: str(error)}, status=409)
    except actions.ActionConflict as error:
        return _render(back, errors={action_id: error.errors["status"]}, status=409)
    except actions.ActionError as error:
        return _render(back, errors={action.id: "; ".join(error.errors.values())}, status=422)
    if changed:
        flash(f"“{what}” is now {action.status_label.lower()}.", "success")
    else:
        flash(f"“{what}” was already {action.status_label.lower()}; nothing changed.", "info")
    return redirect(url_for("actions.index", **_query(back), _anchor=f"action-{action.id}"))
