"""PostgreSQL: pg_dump for a backup, checking a backup's dump, and restoring it in one transaction.

The PostgreSQL client tools (pg_dump, pg_restore, psql) must be on the PATH. The password, when the
URL has one, reaches them through the environment rather than the command line, where ``ps`` shows it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from sqlalchemy.engine import URL

from evidence import portfolio_version
from evidence.backups.archive import ASSURE_TABLES, CHUNK, check_database
from evidence.backups.errors import BackupError, RestoreRefused, one_line, shown

# What pg_dump writes for an Assure database; a dump holding anything else (functions, triggers,
# rules, other schemas, other extensions) did not come from one and is refused.
ENTRY_KINDS = (
    "SEQUENCE OWNED BY",
    "FK CONSTRAINT",
    "SEQUENCE SET",
    "TABLE DATA",
    "CONSTRAINT",
    "EXTENSION",
    "SEQUENCE",
    "DEFAULT",
    "COMMENT",
    "SCHEMA",
    "INDEX",
    "TABLE",
    "ACL",
)
EXTENSIONS = frozenset({"pg_trgm", "plpgsql"})
LIST_MAX_BYTES = 16 * 1024 * 1024
# How long the restore waits for locks held by the portal's own requests before it gives up.
LOCK_TIMEOUT = "30s"
_ENTRY = re.compile(r"^\d+; \d+ \d+ (?P<rest>.*)$")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools")
    return path


def _connection(url: URL) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGAPPNAME", "assure-backup")
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return ["--dbname", target], env


def _last_error(stream) -> str:
    stream.seek(0)
    lines = [line for line in stream.read().decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "error:" in line]
    return one_line((errors or lines or ["no message"])[0])


def dump(url: URL, target: Path) -> None:
    dbname, env = _connection(url)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *dbname]
    with tempfile.TemporaryFile() as errors:
        if subprocess.run(command, stdout=subprocess.DEVNULL, stderr=errors, env=env).returncode != 0:
            raise BackupError(f"pg_dump failed: {_last_error(errors)}")


def _read(command: list[str], limit: int) -> bytes:
    """Run pg_restore on the unpacked dump, keeping at most ``limit`` bytes of what it prints."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        out = process.stdout.read(limit + 1)
        if len(out) > limit:
            process.kill()
            process.wait()
            raise RestoreRefused("its database dump is not one an Assure backup makes (it is far too large to list)")
        if process.wait() != 0:
            raise RestoreRefused(f"its database dump is damaged ({_last_error(errors)})")
    return out


def _tables(listing: str) -> set[str]:
    """The tables in a dump's table of contents, refusing entries an Assure database never has."""
    tables = set()
    for line in listing.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        entry = _ENTRY.match(line)
        if entry is None:
            raise RestoreRefused(f"its database dump has an unreadable table of contents ({shown(line)})")
        rest = entry["rest"]
        kind = next((kind for kind in ENTRY_KINDS if rest.startswith(kind + " ")), None)
        if kind is None:
            raise RestoreRefused(f"its database dump holds {shown(rest)}, which an Assure database never has")
        words = rest[len(kind) + 1 :].split(" ")
        schema, name = words[0], words[1] if len(words) > 1 else ""
        if schema not in ("public", "-") or (kind == "SCHEMA" and name != "public"):
            raise RestoreRefused(f"its database dump holds {shown(rest)}, outside the public schema")
        if kind == "EXTENSION" and name not in EXTENSIONS:
            raise RestoreRefused(f"its database dump holds the extension {shown(name)}, which Assure never uses")
        if kind == "TABLE":
            tables.add(name)
    return tables


def _copy_rows(script: str, table: str) -> list[str]:
    rows, inside = [], False
    for line in script.splitlines():
        if inside:
            if line == "\\.":
                break
            rows.append(line)
        elif line.startswith(f"COPY {table} "):
            inside = True
    return rows


def check(path: Path, known_revisions: frozenset[str]) -> str:
    """The dump is whole and holds an Assure database at a known revision; returns the revision.

    ``pg_restore --list`` reads the table of contents; a dry run into /dev/null then reads every data
    block, which is where a truncated or damaged dump shows.
    """
    pg_restore = _tool("pg_restore")
    listing = _read([pg_restore, "--list", str(path)], LIST_MAX_BYTES).decode("utf-8", "replace")
    tables = _tables(listing)
    data = _read([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], LIST_MAX_BYTES)
    revisions = _copy_rows(data.decode("utf-8", "replace"), "public.alembic_version")
    revision = check_database(tables, revisions, known_revisions)
    _read([pg_restore, "--file", os.devnull, str(path)], 0)
    return revision


# Empties the public schema inside the restore's transaction: every table, view and sequence and
# every type, but not what extensions own (pg_trgm stays, and the dump's CREATE EXTENSION IF NOT EXISTS
# finds it).
_EMPTY_PUBLIC = """
DO $assure$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                          WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind,
           format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relkind IN ('r', 'p') DESC
  LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE', item.kind, item.name);
  END LOOP;
  FOR item IN
    SELECT format('%I.%I', n.nspname, t.typname) AS name
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', item.name);
  END LOOP;
END
$assure$;
"""


class Loader:
    """Restores the dump into the live database in one transaction that Python alone may commit.

    psql runs ``BEGIN``, empties the public schema, runs the script pg_restore makes from the dump and
    a final check, all in one transaction, and then waits; only after the check has passed (and the
    uploaded files are staged) does this class send ``COMMIT``. PostgreSQL rolls back every transaction
    whose session ends without a commit, so a restore that fails, or is killed at any moment — this
    process, psql or the server — leaves the database exactly as it was: if this process dies, psql
    reads the end of its input and disconnects. Until the commit, other sessions (a running portal) wait
    on the restore's locks and never see a half-restored schema; afterwards they see the new data.

    Restoring into a scratch database and renaming it over the live one was the alternative; it needs
    the CREATEDB privilege, every other session disconnected, and it loses the live database's own
    settings and grants. Neither design can stop a dump crafted to run harmful SQL: the checks above
    accept only what pg_dump writes for an Assure database, and a backup should come from a place the
    council trusts. A dump whose SQL ends the transaction early is detected, and the restore stops.
    """

    def __init__(self, url: URL, path: Path, work: Path, revision: str) -> None:
        self.url, self.path, self.work, self.revision = url, path, work, revision
        self.psql: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()

    def _send(self, sql: bytes) -> None:
        try:
            self.psql.stdin.write(sql)
            self.psql.stdin.flush()
        except BrokenPipeError:
            pass  # psql has stopped; _expect reports why

    def _read_lines(self) -> None:
        for line in self.psql.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def _expect(self, marker: str) -> list[str]:
        while (line := self.lines.get()) is not None:
            if line.startswith(marker + "|"):
                return line.split("|")[1:]
        self.psql.wait()
        raise RestoreRefused(f"the database refused the backup ({self._psql_error()})")

    def _psql_error(self) -> str:
        with open(self.work / "psql.log", "rb") as log:
            return _last_error(log)

    def prepare(self) -> None:
        dbname, env = _connection(self.url)
        with open(self.work / "psql.log", "wb") as log:
            self.psql = subprocess.Popen(
                [_tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=terse", *dbname],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        threading.Thread(target=self._read_lines, daemon=True).start()
        self._send(
            f"BEGIN;\nSET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n"
            f"SELECT 'assure-begun|' || txid_current();\n{_EMPTY_PUBLIC}\n".encode()
        )
        (begun,) = self._expect("assure-begun")
        with open(self.work / "pg_restore.log", "wb") as log:
            script = subprocess.Popen(
                [_tool("pg_restore"), "--no-owner", "--no-comments", "--file=-", str(self.path)],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        with script:
            while chunk := script.stdout.read(CHUNK):
                self._send(chunk)
                if self.psql.poll() is not None:
                    script.kill()
                    break
        if script.wait() != 0 and self.psql.poll() is None:
            with open(self.work / "pg_restore.log", "rb") as log:
                raise RestoreRefused(f"pg_restore failed ({_last_error(log)})")
        # A new portfolio epoch, so figures kept for the database before the restore never match it
        # (a backup older than the version table has none to reset; the dump leaves search_path empty).
        self._send(
            f"\nDO $assure$ BEGIN IF to_regclass('public.{portfolio_version.TABLE}') IS NOT NULL THEN "
            f"DELETE FROM public.{portfolio_version.TABLE}; END IF; END $assure$;\n".encode()
        )
        wanted = ",".join(f"'{table}'" for table in sorted(ASSURE_TABLES))
        self._send(
            b"\nSELECT 'assure-ready|' || txid_current() || '|' || "
            b"coalesce((SELECT string_agg(version_num, ',') FROM public.alembic_version), '') || '|' || "
            b"(SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tablename IN ("
            + wanted.encode()
            + b"));\n"
        )
        txid, revision, tables = self._expect("assure-ready")
        if txid != begun:
            raise RestoreRefused("the dump's SQL ended the restore's transaction early, so it was stopped")
        if revision != self.revision or int(tables) != len(ASSURE_TABLES):
            raise RestoreRefused("the restored database did not hold what the dump listed")

    def commit(self) -> None:
        self._send(b"COMMIT;\nSELECT 'assure-committed|';\n")
        self.psql.stdin.close()
        try:
            self._expect("assure-committed")
        except RestoreRefused as exc:
            if "ERROR" in str(exc):
                raise  # the server refused the commit and rolled the transaction back
            raise BackupError(f"could not tell whether the database was restored ({exc})") from exc
        self.psql.wait()

    def abort(self) -> None:
        """End the session without a commit: PostgreSQL rolls the whole transaction back."""
        if self.psql is None or self.psql.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.psql.stdin.close()
        try:
            self.psql.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.psql.kill()
            self.psql.wait()
