"""Where a notification's target points in the portal ("item:12#comment-3" → /evidence/12#comment-3)."""

from __future__ import annotations

from flask import url_for

from portal.ids import id_arg


def _id(text: str) -> int | None:
    return id_arg(text) if text else None


def path_for(target: str) -> str:
    """The portal path of a target; the notifications page when the target is not one the portal knows."""
    target, _, anchor = (target or "").partition("#")
    kind, _, rest = target.partition(":")
    anchor = anchor or None
    if kind in ("item", "submission", "review", "round", "peer") and _id(rest) is not None:
        endpoint, arg = {
            "item": ("library.item", "item_id"),
            "submission": ("submissions.edit", "item_id"),
            "review": ("review.item", "item_id"),
            "round": ("rounds.show", "round_id"),
            "peer": ("peer.round_page", "round_id"),
        }[kind]
        return url_for(endpoint, **{arg: _id(rest)}, _anchor=anchor)
    if kind == "statement":
        round_id, _, key = rest.partition(":")
        if key:
            args = {"round": _id(round_id)} if _id(round_id) is not None else {}
            return url_for("statements.show", key=key, _anchor=anchor, **args)
    if kind == "peer-statement":
        round_id, _, key = rest.partition(":")
        if key and _id(round_id) is not None:
            return url_for("peer.statement", round_id=_id(round_id), key=key, _anchor=anchor)
    return url_for("notifications.index")
