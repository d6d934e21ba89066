"""Signing in with the council's directory: OpenID Connect through Authlib.

Configured by ``OIDC_ISSUER``, ``OIDC_CLIENT_ID`` and ``OIDC_CLIENT_SECRET``. The directory's endpoints
and keys come from its discovery document (``<issuer>/.well-known/openid-configuration``), fetched at
the first sign-in. Authlib sends the person to the directory with a state, a nonce and a PKCE challenge
(kept in the signed session) and, on the way back, checks the state, exchanges the code with the PKCE
verifier, and verifies the ID token: its signature against the directory's published keys, its issuer,
its audience (this portal's client id), its expiry and the nonce. Any failure is refused with a message
and recorded. ``evidence.access.sso`` then decides which account the verified claims sign in.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user
from joserfc import errors as jose_errors

from evidence.access import sso, user_sessions
from portal.permissions import ANONYMOUS, allow

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)

EXTENSION = "assure_directory"
CLIENT = "directory"
SIGNED_IN_WITH = "signed_in_with"  # in the session: how this sign-in was made
SIGNED_OUT_OF_PORTAL = "directory_sign_out"  # after sign-out: the directory may still hold a session
NEXT = "directory_next"


def init_app(app: Flask) -> None:
    issuer = (app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    oauth = OAuth(app)  # one registry per app: each app (and test) may name a different directory
    oauth.register(
        CLIENT,
        client_id=app.config.get("OIDC_CLIENT_ID"),
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[EXTENSION] = oauth


def configured(app: Flask | None = None) -> bool:
    return EXTENSION in (app or current_app).extensions


def _client():
    return current_app.extensions[EXTENSION].create_client(CLIENT)


def _refusal(error: Exception) -> str:
    """What the person is told when the directory's answer cannot be accepted."""
    if isinstance(error, MismatchingStateError):
        return "this sign-in was already completed or has expired (the answer does not match a sign-in started here)"
    if isinstance(error, jose_errors.BadSignatureError):
        return "the directory's answer is not signed with the directory's key"
    if isinstance(error, jose_errors.ExpiredTokenError):
        return "the directory's answer has expired"
    claim = getattr(error, "claim", None)
    if isinstance(error, jose_errors.InvalidClaimError | jose_errors.MissingClaimError) and claim in ("aud", "azp"):
        return "the directory's answer was issued to another application"
    if isinstance(error, jose_errors.InvalidClaimError) and error.claim == "iss":
        return "the directory's answer comes from another issuer"
    if isinstance(error, jose_errors.InvalidClaimError) and error.claim == "nonce":
        return "the directory's answer belongs to another sign-in"
    if isinstance(error, jose_errors.JoseError):
        return f"the directory's answer could not be verified ({error.error})"
    if isinstance(error, OAuthError):
        return f"the directory refused the sign-in ({error.description or error.error})"
    if isinstance(error, requests.RequestException | ValueError):
        return "the directory could not be reached or gave an answer the portal cannot read"
    log.exception("directory sign-in failed", exc_info=error)
    return "the directory's answer could not be accepted"


def _refuse(message: str, email: str = ""):
    from portal.auth.routes import render_sign_in

    sso.refuse(message, email, request.remote_addr)
    flash(f"Signing in with your council account did not work: {message}. Please try again.", "error")
    return render_sign_in(status=401)


@bp.before_request
def _only_when_configured():
    """Without a directory configured, its pages are not there."""
    if not configured():
        abort(404)


@bp.route("/sign-in/directory")
@allow(ANONYMOUS)
def start():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    from portal.auth.routes import safe_next

    session[NEXT] = safe_next(request.args.get("next"))
    try:
        return _client().authorize_redirect(url_for("sso.callback", _external=True))
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        log.error("the directory's discovery document could not be read: %s", exc)
        flash("The council directory cannot be reached just now. Please try again in a minute.", "error")
        from portal.auth.routes import render_sign_in

        return render_sign_in(status=503)


@bp.route("/sign-in/directory/callback")
@allow(ANONYMOUS)
def callback():
    client = _client()
    try:
        token = client.authorize_access_token()
    except Exception as exc:  # every way the answer can fail verification is refused, by name where known
        return _refuse(_refusal(exc))
    claims = token.get("userinfo")
    if not claims:
        return _refuse("the directory sent no ID token")
    issuer = client.load_server_metadata().get("issuer") or current_app.config["OIDC_ISSUER"]
    identity = sso.identity_from_claims(issuer, claims, trust_email=current_app.config["OIDC_TRUST_EMAIL"])
    result = sso.sign_in(identity, sso.load_rules(), request.remote_addr)
    if not result.ok:
        flash(f"Signing in with your council account did not work: {result.refusal}.", "error")
        from portal.auth.routes import render_sign_in

        return render_sign_in(status=403)
    target = session.get(NEXT) or url_for("dashboard.home")
    # Nothing from before sign-in carries over (the state is spent), and the session is a new one.
    session.clear()
    user_sessions.start(result.user, current_app.config["SESSION_LIFETIME"])
    login_user(result.user)
    session[SIGNED_IN_WITH] = CLIENT
    return redirect(target)


def end_session_available() -> bool:
    """Does the directory offer to end its own session (RP-initiated logout)?"""
    if not configured():
        return False
    try:
        return bool(_client().load_server_metadata().get("end_session_endpoint"))
    except (requests.RequestException, ValueError):
        return False


@bp.route("/sign-out/directory")
@allow(ANONYMOUS)
def end_session():
    """After signing out of the portal: sign out of the directory too, and come back to the sign-in page."""
    if not end_session_available():
        abort(404)
    session.pop(SIGNED_OUT_OF_PORTAL, None)
    client = _client()
    url = client.create_logout_url(
        post_logout_redirect_uri=url_for("auth.sign_in", _external=True), client_id=client.client_id
    )["url"]
    return redirect(url)
