"""The application factory, configuration, health check and security headers."""

from datetime import timedelta

import pytest

from portal import create_app
from portal.config import ConfigError


def test_secret_key_is_required_outside_debug_and_testing(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_configuration_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/assure")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/assure"
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "files")
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_bad_upload_limit_is_named(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="MAX_UPLOAD_MB"):
        create_app()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSION_DAYS", "forever"),
        ("SESSION_DAYS", "0"),
        ("SESSION_DAYS", "nan"),
        ("SESSION_DAYS", "400"),
        ("MAX_UPLOAD_MB", "inf"),
        ("MAX_UPLOAD_MB", "-5"),
        ("RESTORE_MAX_GB", "1e400"),
        ("RESTORE_MAX_GB", "0"),
        ("REDIS_URL", "ftp://cache"),
        ("PROXY_COUNT", "-1"),
        ("PROXY_COUNT", "one"),
    ],
)
def test_bad_settings_are_named(monkeypatch, name, value):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        create_app()


def test_sessions_last_the_days_configured(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("SESSION_DAYS", "2.5")
    app = create_app()
    assert app.config["SESSION_LIFETIME"] == app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=2.5)
    assert app.config["REMEMBER_COOKIE_SECURE"] is app.config["SESSION_COOKIE_SECURE"] is True


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/no/such/dir/x.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_security_headers_on_every_page(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(client, make_user):
    from tests.conftest import sign_in

    response = sign_in(client, make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unknown_page_gets_a_finished_404(client, login):
    login()
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Not found" in response.data and b"<nav" in response.data
