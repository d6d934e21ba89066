"""Behind a reverse proxy: each request's client address, scheme and host as the proxy received them.

Behind haproxy or nginx every request comes from the proxy's address, so the sign-in counters per address
would count every person together and the audit trail would name the proxy; the directory's callback
address would be built as http:// although people use https://. ``PROXY_COUNT`` says how many proxies in
front of the portal set ``X-Forwarded-For``, ``-Proto`` and ``-Host``; only that many are believed, since a
client can send those headers too.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config.get("PROXY_COUNT", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
