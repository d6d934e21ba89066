"""Comments: a conversation on an evidence item, or on a statement's assessment in a round.

A comment is markdown (shown through the one sanitising rule, ``exports.markup``); a reply joins its
thread, and anyone who can see the conversation may resolve a thread (or reopen it). Writing
``@jane.smith`` (the part of a colleague's email before the @) tells that colleague, if they can see
the conversation. Every comment and resolution is in the audit trail.

Who sees what: an item's conversation, whoever may see the item (``items.can_view``); a statement's,
the council's readers (peer reviewers have their own challenge and the council's reply instead). A
statement's conversation in a round is frozen with the round: once signed off, nothing is added or
resolved, and it is read from the round's snapshot (``round_view.CommentView``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evidence import audit
from evidence.access.roles import COUNCIL, READERS, has_role
from evidence.assessment.round_lock import RoundFrozenError, ensure_open, lock_round
from evidence.assessment.round_view import CommentView, comment_view, round_comments, round_view
from evidence.db import db
from evidence.library import items
from evidence.models import Comment, EvidenceItem, QualityStatement, Round, User, utcnow
from evidence.together.notifications import active_with_roles, notify
from evidence.vocab import NotificationKind

__all__ = ["CommentError", "RoundFrozenError", "Thread"]

BODY_MAX = 10_000
EXCERPT = 300
# @ then an email's local part, not inside a word or an email address ("jo@x.org" mentions nobody).
MENTION = re.compile(r"(?<![\w.@+-])@([A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9])?)(?![\w@])")


class CommentError(ValueError):
    """The comment cannot be saved; the message says why. Nothing was saved."""


@dataclass
class Thread:
    first: CommentView
    replies: list[CommentView] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.first.resolved_at is not None


@dataclass(frozen=True)
class Posted:
    comment: Comment
    told: list[User]  # mentioned and told
    unseen: list[str]  # mentioned, but cannot see the conversation: not told
    unknown: list[str]  # @names that are nobody's


def threads_of(views: list[CommentView]) -> list[Thread]:
    """Comments as threads: each first comment with its replies, oldest first; unresolved threads first."""
    threads: dict[int, Thread] = {}
    for v in sorted(views, key=lambda v: v.id):
        if v.thread_id is None:
            threads[v.id] = Thread(v)
        elif v.thread_id in threads:
            threads[v.thread_id].replies.append(v)
    return sorted(threads.values(), key=lambda t: (t.resolved, t.first.id))


def _loaded():
    return select(Comment).options(selectinload(Comment.author), selectinload(Comment.resolved_by))


def item_threads(item: EvidenceItem) -> list[Thread]:
    rows = db.session.scalars(_loaded().where(Comment.item_id == item.id)).all()
    return threads_of([comment_view(c) for c in rows])


def statement_threads(round_: Round | None, statement: QualityStatement) -> list[Thread]:
    """A statement's conversation in a round: from the snapshot once the round is signed off."""
    if round_ is None:
        return []
    views = round_view(round_).comments if round_.signed_off else round_comments(round_)
    return threads_of([v for v in views if v.statement_key == statement.key])


# --- Who may take part -------------------------------------------------------------------------


def can_see_item(item: EvidenceItem, user: User | None) -> bool:
    return items.can_view(item, user)


def can_see_statements(user: User | None) -> bool:
    return has_role(user, *READERS)


# --- Writing -------------------------------------------------------------------------------------


def _clean(body: str | None) -> str:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise CommentError("Comment: write something first.")
    if len(body) > BODY_MAX:
        raise CommentError(f"Comment: at most {BODY_MAX:,} characters.")
    return body


def mentions(body: str) -> list[str]:
    """The @names in the text, in order, each once (case ignored)."""
    return list(dict.fromkeys(m.group(1).casefold() for m in MENTION.finditer(body)))


def _people_named(names: list[str]) -> dict[str, User]:
    """@name → the one active council member whose email begins name@ (a name two people share names nobody)."""
    found: dict[str, list[User]] = {}
    for user in active_with_roles(*COUNCIL):
        local = user.email.rsplit("@", 1)[0].casefold()
        found.setdefault(local, []).append(user)
    return {name: found[name][0] for name in names if len(found.get(name, [])) == 1}


def _thread(thread_id: int | None, **where) -> int | None:
    """The first comment of the thread a reply joins (a reply to a reply joins the same thread)."""
    if thread_id is None:
        return None
    first = db.session.get(Comment, thread_id)
    if first is None or any(getattr(first, k) != v for k, v in where.items()):
        raise CommentError("Reply: that conversation is not here.")
    return first.thread_id or first.id


def _tell(comment: Comment, author: User, where: str, target: str, can_see) -> Posted:
    names = mentions(comment.body)
    people = _people_named(names)
    told, unseen = [], []
    for name in names:
        person = people.get(name)
        if person is None or person.id == author.id:
            continue
        (told if can_see(person) else unseen).append(person)
    excerpt = comment.body if len(comment.body) <= EXCERPT else comment.body[: EXCERPT - 1].rstrip() + "…"
    notify(
        told,
        NotificationKind.MENTION,
        f"{author.name} mentioned you on {where}",
        excerpt,
        target=f"{target}#comment-{comment.id}",
        actor=author,
    )
    return Posted(comment, told, [u.name for u in unseen], [n for n in names if n not in people])


def _post(
    comment: Comment,
    author: User,
    on: str,
    after: dict,
    target: str,
    can_see,
    *,
    where: str | None = None,
) -> Posted:
    """Save the comment, record it in the history and tell whoever it mentions (`where` names it in the alert)."""
    db.session.add(comment)
    db.session.flush()
    audit.record(
        "comment",
        comment,
        user=author,
        summary=f"Commented on {on}" + (" (a reply)" if comment.thread_id else ""),
        after=after,
    )
    posted = _tell(comment, author, where or on, target, can_see)
    db.session.commit()
    return posted


def comment_on_item(item: EvidenceItem, author: User, body: str, *, reply_to: int | None = None) -> Posted:
    if not can_see_item(item, author):
        raise CommentError(f"{item.reference} is not yours to comment on.")
    body = _clean(body)
    comment = Comment(item_id=item.id, author_id=author.id, body=body, thread_id=_thread(reply_to, item_id=item.id))
    return _post(
        comment,
        author,
        item.reference,
        {"item": item.reference, "body": body},
        f"item:{item.id}",
        lambda u: can_see_item(item, u),
    )


def comment_on_statement(
    round_: Round, statement: QualityStatement, author: User, body: str, *, reply_to: int | None = None
) -> Posted:
    ensure_open(round_)
    body = _clean(body)
    thread_id = _thread(reply_to, round_id=round_.id, statement_id=statement.id)
    lock_round(round_)  # the round's snapshot keeps its conversations: a sign-off must not miss this one
    comment = Comment(
        round_id=round_.id, statement_id=statement.id, author_id=author.id, body=body, thread_id=thread_id
    )
    return _post(
        comment,
        author,
        f"{statement.name} in “{round_.name}”",
        {"round": round_.name, "statement": statement.key, "body": body},
        f"statement:{round_.id}:{statement.key}",
        can_see_statements,
        where=f"{statement.name} ({round_.name})",
    )


def toggle_resolved(comment: Comment, user: User) -> bool:
    """Resolve the comment's thread, or reopen it when resolved; True when it is now resolved."""
    first = db.session.get(Comment, comment.thread_id) if comment.thread_id else comment
    round_ = db.session.get(Round, first.round_id) if first.round_id else None
    if round_ is not None:
        ensure_open(round_)
        lock_round(round_)
    resolving = first.resolved_at is None
    before = audit.snapshot(first, ["resolved_at", "resolved_by_id"])
    first.resolved_at = utcnow() if resolving else None
    first.resolved_by_id = user.id if resolving else None
    audit.record(
        "resolve" if resolving else "reopen",
        first,
        user=user,
        summary="Resolved the conversation" if resolving else "Reopened the conversation",
        before=before,
        after=audit.snapshot(first, ["resolved_at", "resolved_by_id"]),
    )
    db.session.commit()
    return resolving
