"""Single sign-on: which account a directory's verified answer signs in, and the rules an administrator sets.

The web layer verifies the directory's ID token (signature, issuer, audience, expiry, nonce) and hands over
its claims; this module decides who that is. A user is found by the directory account linked to them
(issuer and subject), else by a verified email address, which links that account for next time. Someone
the portal does not know gets an account only when an administrator allows it, with the role the mapping
of directory groups (or app roles) gives, else staff. A disabled account stays disabled. Every sign-in,
and every refusal, is in the audit trail.

The rules live in the settings table; this module is the one place that reads or writes them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from evidence import audit
from evidence.access.accounts import SIGN_IN, SIGN_IN_FAILED, normalise_email
from evidence.db import db
from evidence.models import User
from evidence.settings import get_setting, set_setting
from evidence.vocab import Role

CREATE_USERS = "sso_create_users"
ROLE_MAPPING = "sso_role_mapping"
PASSWORD_SIGN_IN = "password_sign_in"
BREAK_GLASS = "break_glass_email"

# When several groups map to roles, the user gets the one that can do most.
ROLE_ORDER = (Role.ADMIN, Role.QUALITY_LEAD, Role.MANAGER, Role.STAFF)
GROUP_LENGTH = 200
MAX_MAPPINGS = 200


class RulesError(ValueError):
    """Sign-in rules that cannot be saved; ``field`` names the setting at fault."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class SignInRules:
    create_users: bool = False
    role_mapping: dict[str, str] = field(default_factory=dict)  # directory group or app role -> Assure role
    password_sign_in: bool = True
    break_glass_email: str = ""  # the one administrator who may use a password when password sign-in is off

    def password_allowed(self, email: str) -> bool:
        if self.password_sign_in:
            return True
        return bool(self.break_glass_email) and normalise_email(email) == self.break_glass_email

    def role_for(self, groups: Iterable[str]) -> str:
        mapped = {self.role_mapping[g] for g in groups if g in self.role_mapping}
        return next((role for role in ROLE_ORDER if role in mapped), Role.STAFF)

    @property
    def mapping_text(self) -> str:
        """The mapping as the settings page edits it: one ``group = role`` a line."""
        return "\n".join(f"{group} = {role}" for group, role in self.role_mapping.items())


def load_rules() -> SignInRules:
    try:
        mapping = json.loads(get_setting(ROLE_MAPPING, "{}"))
    except ValueError:
        mapping = {}
    if not isinstance(mapping, dict):
        mapping = {}
    return SignInRules(
        create_users=get_setting(CREATE_USERS, "no") == "yes",
        role_mapping={str(k): str(v) for k, v in mapping.items() if v in set(Role)},
        password_sign_in=get_setting(PASSWORD_SIGN_IN, "yes") != "no",
        break_glass_email=get_setting(BREAK_GLASS, ""),
    )


def parse_mapping(text: str) -> dict[str, str]:
    """``group = role`` lines into a mapping; RulesError names the line at fault."""
    mapping: dict[str, str] = {}
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        group, sep, role = line.rpartition("=")
        group, role = group.strip(), role.strip()
        if not sep or not group:
            raise RulesError("role_mapping", f"Line {number}: write a directory group or app role, “=”, and a role")
        if len(group) > GROUP_LENGTH:
            raise RulesError("role_mapping", f"Line {number}: a group or role has at most {GROUP_LENGTH} characters")
        if role not in set(Role):
            raise RulesError("role_mapping", f"Line {number}: “{role}” is not a role; use one of {', '.join(Role)}")
        if group in mapping:
            raise RulesError("role_mapping", f"Line {number}: {group} is mapped already")
        mapping[group] = role
    if len(mapping) > MAX_MAPPINGS:
        raise RulesError("role_mapping", f"At most {MAX_MAPPINGS} groups and app roles can be mapped")
    return mapping


def save_rules(rules: SignInRules, *, by: User) -> None:
    """Save the rules; refused when password sign-in would be off with no administrator left to break glass."""
    email = normalise_email(rules.break_glass_email)
    if email:
        account = db.session.scalar(select(User).where(User.email == email))
        if account is None or account.role != Role.ADMIN or not account.active:
            raise RulesError("break_glass_email", f"{email} is not an active administrator's account")
    elif not rules.password_sign_in:
        raise RulesError(
            "break_glass_email",
            "Name the administrator who may still sign in with a password, in case the directory is unavailable",
        )
    before = load_rules()
    set_setting(CREATE_USERS, "yes" if rules.create_users else "no")
    set_setting(ROLE_MAPPING, json.dumps(rules.role_mapping, sort_keys=True))
    set_setting(PASSWORD_SIGN_IN, "yes" if rules.password_sign_in else "no")
    set_setting(BREAK_GLASS, email)
    audit.record(
        "update",
        entity_type="setting",
        user=by,
        summary="Sign-in settings changed",
        before=_described(before),
        after=_described(load_rules()),
    )
    db.session.commit()


def _described(rules: SignInRules) -> dict[str, Any]:
    return {
        "create_users": rules.create_users,
        "role_mapping": rules.role_mapping,
        "password_sign_in": rules.password_sign_in,
        "break_glass_email": rules.break_glass_email,
    }


# --- Who the directory's answer signs in -------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says about the person."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...]


def identity_from_claims(issuer: str, claims: Mapping[str, Any], *, trust_email: bool = False) -> Identity:
    """The person a verified ID token describes. ``trust_email`` counts an email the directory sends
    without ``email_verified`` as verified (Entra ID sends none; a council's own tenant owns its addresses);
    ``email_verified: false`` is never trusted."""
    verified = claims.get("email_verified")
    if isinstance(verified, str):  # some directories send "true"
        verified = verified.strip().lower() == "true"
    email = claims.get("email") or (claims.get("preferred_username") if trust_email else None) or ""
    groups: list[str] = []
    for name in ("roles", "groups"):
        value = claims.get(name)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            groups += [str(v) for v in value if isinstance(v, str | int) and str(v)]
    return Identity(
        issuer=str(issuer),
        subject=str(claims.get("sub") or ""),
        email=normalise_email(email if isinstance(email, str) else ""),
        email_verified=verified is True or (verified is None and trust_email),
        name=" ".join(str(claims.get("name") or "").split())[:200],
        groups=tuple(dict.fromkeys(groups)),
    )


@dataclass(frozen=True)
class DirectorySignIn:
    user: User | None
    refusal: str = ""  # what the person is told when ``user`` is None

    @property
    def ok(self) -> bool:
        return self.user is not None


def sign_in(identity: Identity, rules: SignInRules, remote_addr: str | None) -> DirectorySignIn:
    """The account this directory identity signs in as, or the reason it does not; audited either way."""
    if not identity.subject:
        return refuse("the directory's answer names nobody (no subject)", identity.email, remote_addr)
    user = db.session.scalar(
        select(User).where(User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject)
    )
    if user is None and identity.email and identity.email_verified:
        user = db.session.scalar(select(User).where(User.email == identity.email))
        if user is not None and user.oidc_subject is not None and user.oidc_issuer == identity.issuer:
            return refuse(
                f"{identity.email} is linked to another directory account; ask an administrator",
                identity.email,
                remote_addr,
                user,
            )
        if user is not None:
            user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
            audit.record("update", user, user=user, summary=f"{user.email} linked to their directory account")
    if user is None:
        if not rules.create_users:
            return refuse(
                "there is no Assure account for this directory account; ask an administrator to add you",
                identity.email,
                remote_addr,
            )
        if not (identity.email and identity.email_verified):
            return refuse(
                "the directory did not give a verified email address, so no account can be made",
                identity.email,
                remote_addr,
            )
        user = _create(identity, rules)
    if not user.active:
        return refuse("this account is disabled; ask an administrator", identity.email, remote_addr, user)
    audit.record(SIGN_IN, user, user=user, summary=f"{user.email} (directory)", remote_addr=remote_addr)
    db.session.commit()
    return DirectorySignIn(user)


def _create(identity: Identity, rules: SignInRules) -> User:
    role = rules.role_for(identity.groups)
    user = User(
        email=identity.email,
        name=identity.name or identity.email,
        role=role,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
    )
    user.set_password(secrets.token_urlsafe(32))  # nobody knows it: this account signs in through the directory
    db.session.add(user)
    audit.record(
        "create",
        user,
        user=user,
        summary=f"User {user.email} created at their first directory sign-in with role {Role(role).label}",
        after={"email": user.email, "role": role, "groups": list(identity.groups)[:50]},
    )
    return user


def refuse_password(email: str, remote_addr: str | None) -> None:
    """A password sign-in refused because password sign-in is off (and this is not the break-glass account)."""
    audit.record(
        SIGN_IN_FAILED,
        entity_type="app_user",
        summary=f"{normalise_email(email)} (password sign-in is off)"[:1000],
        remote_addr=remote_addr,
    )
    db.session.commit()


def refuse(reason: str, email: str = "", remote_addr: str | None = None, user: User | None = None) -> DirectorySignIn:
    """Record a refused directory sign-in (a failed verification too) and say why."""
    db.session.rollback()
    audit.record(
        SIGN_IN_FAILED,
        entity_type="app_user",
        entity_id=user.id if user is not None else None,
        summary=f"{email or 'unknown'} (directory: {reason})"[:1000],
        remote_addr=remote_addr,
    )
    db.session.commit()
    return DirectorySignIn(None, reason)
