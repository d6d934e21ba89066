"""GET /healthz: is the portal up and does its database answer?"""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from evidence.db import db
from portal.permissions import ANONYMOUS, allow

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@allow(ANONYMOUS)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
