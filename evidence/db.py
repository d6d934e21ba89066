"""The one Flask-SQLAlchemy object, importable without the web layer."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from evidence.bounds import json_dumps

# Named constraints so that Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSON columns (audit trail, sign-off snapshots) never hold NaN or Infinity, which PostgreSQL refuses.
db = SQLAlchemy(model_class=Base, engine_options={"json_serializer": json_dumps})
