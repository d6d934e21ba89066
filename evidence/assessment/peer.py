"""The peer challenge: reviewers from another council rate a round's statements beside the council's own scores.

A manager opens a round's challenge and invites peer reviewers (accounts with the ``peer_reviewer`` role);
an invited reviewer reads that round only (its statements, the evidence they cite, its dashboard) and gives,
per statement, a rating of 1–4 and a written challenge; the council's quality leads write a response. The
peer team's rating is one per statement: any invited reviewer may change it, and two saving at once never
silently overwrite each other (the row is versioned). Signing the round off closes the challenge and keeps
the ratings, challenges and responses in the round's snapshot, so its exports stay what they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit
from evidence.access.roles import CURATORS, READERS, has_role
from evidence.assessment.round_lock import RoundFrozenError, ensure_open, lock_round
from evidence.assessment.round_view import PeerReviewView, peer_state, round_view
from evidence.db import db
from evidence.models import PeerChallenge, PeerInvite, PeerReview, QualityStatement, Round, User, utcnow
from evidence.together.notifications import active_with_roles, notify
from evidence.vocab import NotificationKind, PeerStatus, Role
from quality_statements import scoring

__all__ = ["PeerConflict", "PeerError", "RoundFrozenError"]

TEXT_MAX = 10_000


class PeerError(ValueError):
    """Field → message for each problem; nothing was saved."""

    def __init__(self, errors: dict[str, str] | str):
        self.errors = errors if isinstance(errors, dict) else {"": errors}
        super().__init__("; ".join(self.errors.values()))


class PeerConflict(PeerError):
    """Someone saved this statement's peer review since the form was opened; ``theirs`` is what they saved."""

    def __init__(self, theirs: PeerReview | None):
        super().__init__(
            "Someone else saved this statement's peer review while you were writing. Nothing was saved; "
            "their version is shown, and yours is still in the form."
        )
        self.theirs = theirs


# --- Who may see what --------------------------------------------------------------------------


def challenge_of(round_: Round) -> PeerChallenge | None:
    return db.session.get(PeerChallenge, round_.id)


def is_open(round_: Round) -> bool:
    challenge = challenge_of(round_)
    return challenge is not None and challenge.is_open and not round_.signed_off


def is_invited(user: User | None, round_: Round) -> bool:
    if not has_role(user, Role.PEER_REVIEWER):
        return False
    return (
        db.session.scalar(select(PeerInvite.id).where(PeerInvite.round_id == round_.id, PeerInvite.user_id == user.id))
        is not None
    )


def can_read(user: User | None, round_: Round) -> bool:
    """The council's readers read every round; a peer reviewer only the rounds they are invited to."""
    return has_role(user, *READERS) or is_invited(user, round_)


def invited_rounds(user: User) -> list[Round]:
    return db.session.scalars(
        select(Round).join(PeerInvite, PeerInvite.round_id == Round.id).where(PeerInvite.user_id == user.id)
        .order_by(Round.id.desc())
    ).all()  # fmt: skip


def reviewers(round_: Round) -> list[User]:
    return db.session.scalars(
        select(User).join(PeerInvite, PeerInvite.user_id == User.id).where(PeerInvite.round_id == round_.id)
        .order_by(User.name)
    ).all()  # fmt: skip


def candidates(round_: Round) -> list[User]:
    """Peer reviewers who could be invited to the round (active, not yet invited)."""
    invited = {u.id for u in reviewers(round_)}
    return [u for u in active_with_roles(Role.PEER_REVIEWER) if u.id not in invited]


# --- A manager opens, closes and invites -----------------------------------------------------------


def _council() -> list[User]:
    return active_with_roles(Role.QUALITY_LEAD, Role.MANAGER)


def open_challenge(round_: Round, user: User) -> PeerChallenge:
    ensure_open(round_)
    lock_round(round_)
    challenge = challenge_of(round_)
    if challenge is None:
        challenge = PeerChallenge(round_id=round_.id, status=PeerStatus.OPEN, opened_by_id=user.id)
        db.session.add(challenge)
    elif challenge.is_open:
        raise PeerError("The peer challenge of this round is already open.")
    else:
        challenge.status, challenge.closed_at = PeerStatus.OPEN, None
    audit.record(
        "peer_open", round_, user=user, summary=f"Opened the peer challenge of “{round_.name}”", after={"peer": "open"}
    )
    notify(
        reviewers(round_),
        NotificationKind.PEER_CHALLENGE,
        f"The peer challenge of “{round_.name}” is open",
        "You can now rate each quality statement and write your challenge.",
        target=f"peer:{round_.id}",
        actor=user,
    )
    db.session.commit()
    return challenge


def close_challenge(round_: Round, user: User | None, *, at_sign_off: bool = False) -> None:
    """Close the challenge: ratings stay, and are shown, but no longer change. Joins the caller's transaction
    at sign-off; else commits."""
    challenge = challenge_of(round_)
    if challenge is None or not challenge.is_open:
        if at_sign_off:
            return
        raise PeerError("The peer challenge of this round is not open.")
    if not at_sign_off:
        ensure_open(round_)
        lock_round(round_)
    challenge.status, challenge.closed_at = PeerStatus.CLOSED, utcnow()
    summary = f"Closed the peer challenge of “{round_.name}”" + (" as the round was signed off" if at_sign_off else "")
    audit.record("peer_close", round_, user=user, summary=summary, after={"peer": "closed"})
    if not at_sign_off:
        db.session.commit()


def invite(round_: Round, reviewer: User | None, by: User) -> None:
    ensure_open(round_)
    if reviewer is None or not reviewer.active or reviewer.role != Role.PEER_REVIEWER:
        raise PeerError(
            {"reviewer": "Choose a peer reviewer's account (an administrator gives it the Peer reviewer role)."}
        )
    if is_invited(reviewer, round_):
        raise PeerError({"reviewer": f"{reviewer.name} is already invited."})
    lock_round(round_)
    db.session.add(PeerInvite(round_id=round_.id, user_id=reviewer.id, invited_by_id=by.id))
    audit.record(
        "peer_invite",
        round_,
        user=by,
        summary=f"Invited {reviewer.name} to the peer challenge",
        after={"reviewer": reviewer.email},
    )
    notify(
        [reviewer],
        NotificationKind.PEER_CHALLENGE,
        f"You are invited to the peer challenge of “{round_.name}”",
        "You can read its quality statements, the evidence they cite and its dashboard"
        + (", and rate each statement." if is_open(round_) else "; rating opens when the council opens the challenge."),
        target=f"peer:{round_.id}",
        actor=by,
    )
    try:
        db.session.commit()
    except IntegrityError as error:  # invited by someone else at the same moment
        db.session.rollback()
        raise PeerError({"reviewer": f"{reviewer.name} is already invited."}) from error


def uninvite(round_: Round, reviewer: User, by: User) -> None:
    ensure_open(round_)
    row = db.session.scalar(
        select(PeerInvite).where(PeerInvite.round_id == round_.id, PeerInvite.user_id == reviewer.id)
    )
    if row is None:
        raise PeerError({"reviewer": f"{reviewer.name} is not invited."})
    lock_round(round_)
    db.session.delete(row)
    audit.record(
        "peer_uninvite", round_, user=by, summary=f"Removed {reviewer.name} from the peer challenge",
        before={"reviewer": reviewer.email},
    )  # fmt: skip
    db.session.commit()


# --- Ratings, challenges and the council's response ------------------------------------------------


def review_for(round_: Round | None, statement: QualityStatement) -> PeerReview | None:
    if round_ is None:
        return None
    return db.session.scalar(
        select(PeerReview).where(PeerReview.round_id == round_.id, PeerReview.statement_id == statement.id)
    )


def _text(name: str, label: str, value: str | None, errors: dict[str, str]) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) > TEXT_MAX:
        errors[name] = f"{label}: at most {TEXT_MAX:,} characters."
    return value


def _save(
    round_,
    statement,
    changes: dict,
    errors: dict[str, str],
    user,
    expected_version,
    action: str,
    summary: str,
    *,
    tell,
    title: str,
    body: str,
    target: str,
) -> PeerReview:
    """Set `changes` on the statement's peer review, record it, then tell those `tell()` returns about it; refuse
    them all, before anything is locked, when `errors` names any field."""
    if errors:
        raise PeerError(errors)
    lock_round(round_)
    review = review_for(round_, statement)
    current = review.version if review else 0
    if expected_version is not None and expected_version != current:
        raise PeerConflict(review)
    if review is None:
        review = PeerReview(round_id=round_.id, statement_id=statement.id, challenge="", response="")
        db.session.add(review)
    fields = ["rating", "challenge", "response"]
    before = audit.snapshot(review, fields) if review.id else {}
    for name, value in changes.items():
        setattr(review, name, value)
    try:
        db.session.flush()
        audit.record(action, review, user=user, summary=summary, before=before, after=audit.snapshot(review, fields))
        db.session.commit()
    except (StaleDataError, IntegrityError) as error:  # saved by someone else between our read and write
        db.session.rollback()
        raise PeerConflict(review_for(round_, statement)) from error
    notify(tell(), NotificationKind.PEER_CHALLENGE, title, body, target=target, actor=user)
    db.session.commit()
    return review


def save_rating(
    round_: Round,
    statement: QualityStatement,
    user: User,
    rating: int | None,
    challenge: str | None,
    expected_version: int | None = None,
) -> PeerReview:
    """An invited reviewer's rating (1–4, or none yet) and written challenge, while the challenge is open."""
    ensure_open(round_)
    if not is_invited(user, round_):
        raise PeerError("Only a peer reviewer invited to this round can rate it.")
    if not is_open(round_):
        raise PeerError("The peer challenge of this round is closed: ratings can no longer be changed.")
    errors: dict[str, str] = {}
    if rating is not None and not scoring.is_score(rating):
        errors["rating"] = "Rating: choose 1, 2, 3 or 4."
    challenge = _text("challenge", "Challenge", challenge, errors)
    return _save(
        round_,
        statement,
        {"rating": rating, "challenge": challenge, "reviewed_by_id": user.id, "reviewed_at": utcnow()},
        errors,
        user,
        expected_version,
        "peer_rate",
        f"Peer rating of {statement.name}: {rating or 'none'}",
        tell=_council,
        title=f"Peer rating of {statement.name} in “{round_.name}”: {rating or 'not rated'}",
        body=challenge[:300],
        target=f"statement:{round_.id}:{statement.key}#peer",
    )


def save_response(
    round_: Round, statement: QualityStatement, user: User, response: str | None, expected_version: int | None = None
) -> PeerReview:
    """The council's written response to the peer challenge on a statement (a curator's), until sign-off."""
    ensure_open(round_)
    if not has_role(user, *CURATORS):
        raise PeerError("Only a quality lead can write the council's response.")
    errors: dict[str, str] = {}
    response = _text("response", "Response", response, errors)
    return _save(
        round_,
        statement,
        {"response": response, "responded_by_id": user.id, "responded_at": utcnow()},
        errors,
        user,
        expected_version,
        "peer_respond",
        f"Responded to the peer challenge on {statement.name}",
        tell=lambda: reviewers(round_),
        title=f"The council responded on {statement.name} in “{round_.name}”",
        body=response[:300],
        target=f"peer-statement:{round_.id}:{statement.key}",
    )


def reviews_of(round_: Round | None) -> dict[str, PeerReviewView]:
    """Statement key → the peer review, for pages that show ratings without the whole round: from the
    snapshot once the round is signed off."""
    if round_ is None:
        return {}
    if round_.signed_off:
        return round_view(round_).peer_reviews
    return peer_state(round_)[1]


# --- Side by side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideBySide:
    """A statement's council score beside the peer rating."""

    key: str
    name: str
    score: int | None
    rating: int | None

    @property
    def difference(self) -> int | None:
        """Peer rating less the council's score (negative: the peers rate it lower)."""
        return self.rating - self.score if self.score and self.rating else None

    @property
    def differs(self) -> bool:
        return bool(self.difference)

    @property
    def difference_text(self) -> str:
        return difference_text(self.score, self.rating)


def difference_text(score: int | None, rating: int | None) -> str:
    if not rating:
        return "Not rated by the peers"
    if not score:
        return "The council has not scored it"
    gap = rating - score
    if gap == 0:
        return "Same"
    return f"Peers {abs(gap)} {'higher' if gap > 0 else 'lower'}"


def side_by_side(view) -> list[SideBySide]:
    """Every statement of a round's view (``RoundView``), with the council's score and the peer rating."""
    scores = view.scores()
    return [SideBySide(s.key, s.name, scores.get(s.key), view.peer_rating(s.key)) for s in view.statements]
