"""Configuration from environment variables, with safe defaults for a local demo."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(RuntimeError):
    """The portal cannot start with this configuration."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(url: str) -> str:
    # Hosting platforms still hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def from_environment(instance_path: str) -> dict:
    upload_mb = os.environ.get("MAX_UPLOAD_MB", "20")
    try:
        max_upload = int(float(upload_mb) * 1024 * 1024)
    except ValueError as exc:
        raise ConfigError(f"MAX_UPLOAD_MB must be a number of megabytes, not {upload_mb!r}") from exc
    restore_gb = os.environ.get("RESTORE_MAX_GB", "4")
    try:
        restore_max = int(float(restore_gb) * 1024**3)
    except ValueError as exc:
        raise ConfigError(f"RESTORE_MAX_GB must be a number of gigabytes, not {restore_gb!r}") from exc
    if restore_max <= 0:
        raise ConfigError(f"RESTORE_MAX_GB must be more than 0, not {restore_gb!r}")
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
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not debug),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PAGE_SIZE": 50,
        "WTF_CSRF_TIME_LIMIT": None,  # tokens last as long as the session; long forms are written slowly
    }


def check(config: dict, *, debug: bool) -> None:
    if not config.get("SECRET_KEY"):
        if debug or config.get("TESTING"):
            config["SECRET_KEY"] = "development-only-key"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))").'
            )
