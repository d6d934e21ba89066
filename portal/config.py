"""Configuration from environment variables, with safe defaults for a local demo."""

from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path

# How background jobs run: RQ workers on Redis, a thread pool in each portal process, or at once in the
# request (for tests that are not about jobs).
RUNNERS = ("rq", "threads", "inline")


class ConfigError(RuntimeError):
    """The portal cannot start with this configuration."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: str, unit: str, *, maximum: float | None = None) -> float:
    """A positive amount from the environment, or a ConfigError that names the variable."""
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of {unit}, not {raw!r}") from exc
    if not (0 < value <= (maximum if maximum is not None else math.inf)) or math.isinf(value):
        most = f" and at most {maximum:g} {unit}" if maximum is not None else ""
        raise ConfigError(f"{name} must be more than 0{most}, not {raw!r}")
    return value


def _database_url(url: str) -> str:
    # Hosting platforms still hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number from 1 to 65535, not {raw!r}")
    return int(raw)


def _count(name: str, default: int, *, maximum: int) -> int:
    raw = (os.environ.get(name) or str(default)).strip()
    if not raw.isdigit() or int(raw) > maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, not {raw!r}")
    return int(raw)


def _portal_url() -> str:
    url = (os.environ.get("PORTAL_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise ConfigError(
            f"PORTAL_URL must be the portal's address, such as https://assure.council.gov.uk, not {url!r}"
        )
    return url


def from_environment(instance_path: str) -> dict:
    max_upload = int(_number("MAX_UPLOAD_MB", "20", "megabytes") * 1024 * 1024)
    session_days = _number("SESSION_DAYS", "14", "days", maximum=366)
    restore_max = int(_number("RESTORE_MAX_GB", "4", "gigabytes") * 1024**3)
    debug = _bool("FLASK_DEBUG", False)
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'assure.sqlite'}"
        ),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(Path(instance_path) / "uploads"),
        "MAX_CONTENT_LENGTH": max_upload,
        "RESTORE_MAX_BYTES": restore_max,  # the most a backup may unpack to (a zip bomb stops here)
        "AUTHORITY_NAME": os.environ.get("AUTHORITY_NAME", ""),
        # Single sign-on with the council's directory (OpenID Connect); off unless OIDC_ISSUER is set.
        "OIDC_ISSUER": os.environ.get("OIDC_ISSUER") or None,
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES") or "openid email profile",
        "OIDC_TRUST_EMAIL": _bool("OIDC_TRUST_EMAIL", False),
        "OIDC_BUTTON_LABEL": os.environ.get("OIDC_BUTTON_LABEL") or "Sign in with your council account",
        # Requests each API token may make (the limits library's notation), counted where sign-ins are.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT") or "120/minute",
        # Sign-in attempt counters: in Redis when set (shared by every worker and server), else per process.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX") or "assure",
        # Proxies in front of the portal whose X-Forwarded-For/-Proto/-Host are believed (portal.proxy).
        "PROXY_COUNT": _count("PROXY_COUNT", 0, maximum=5),
        # Background jobs (exports, large imports): RQ on Redis when REDIS_URL is set, else threads in each process.
        "JOBS_RUNNER": (os.environ.get("JOBS_RUNNER") or ("rq" if os.environ.get("REDIS_URL") else "threads")).lower(),
        "JOBS_QUEUE": os.environ.get("JOBS_QUEUE") or "assure-jobs",
        "JOBS_THREADS": int(_number("JOBS_THREADS", "2", "threads", maximum=32)),
        # An import of more rows than this is written by a job; smaller ones while the page waits, as ever.
        "JOBS_IMPORT_ROWS": int(_number("JOBS_IMPORT_ROWS", "2000", "rows")),
        # A job whose heartbeat is older than this has lost its process, and is shown as failed.
        "JOBS_STALE_SECONDS": _number("JOBS_STALE_SECONDS", "60", "seconds"),
        # Email (Flask-Mailman, with the names Flask users know); no mail is sent unless MAIL_SERVER is set.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _port("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER") or "Assure <assure@localhost>",
        "MAIL_TIMEOUT": _number("MAIL_TIMEOUT", "30", "seconds", maximum=600),
        "MAIL_BACKEND": "smtp",  # also under TESTING: the tests send to a real SMTP server
        # Where links in emails point: the portal's address as people reach it.
        "PORTAL_URL": _portal_url(),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not debug),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # A sign-in lasts this long at most (evidence.access.user_sessions ends it then), remembered or not.
        "SESSION_LIFETIME": timedelta(days=session_days),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PAGE_SIZE": 50,
        "WTF_CSRF_TIME_LIMIT": None,  # tokens last as long as the session; long forms are written slowly
    }


def check(config: dict, *, debug: bool) -> None:
    # The remember-me cookie follows the session cookie and lasts as long as a sign-in, whatever was set.
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["REMEMBER_COOKIE_DURATION"] = config["SESSION_LIFETIME"]
    if config.get("OIDC_ISSUER") and not (config.get("OIDC_CLIENT_ID") and config.get("OIDC_CLIENT_SECRET")):
        raise ConfigError("OIDC_ISSUER is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too.")
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise ConfigError("Set MAIL_USE_TLS (STARTTLS, usually port 587) or MAIL_USE_SSL (port 465), not both.")
    if config.get("JOBS_RUNNER") not in RUNNERS:
        raise ConfigError(f"JOBS_RUNNER must be one of {', '.join(RUNNERS)}, not {config.get('JOBS_RUNNER')!r}")
    redis_url = config.get("REDIS_URL")
    if redis_url and not redis_url.lower().startswith(("redis://", "rediss://", "unix://")):
        # Checked once here: the sign-in counters, the kept figures and the job queue all use it.
        raise ConfigError(f"REDIS_URL must be a redis://, rediss:// or unix:// address, not {redis_url!r}")
    if config["JOBS_RUNNER"] == "rq" and not config.get("REDIS_URL"):
        raise ConfigError("JOBS_RUNNER is rq, so REDIS_URL must be set too.")
    if not config.get("SECRET_KEY"):
        if debug or config.get("TESTING"):
            config["SECRET_KEY"] = "development-only-key"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))").'
            )
