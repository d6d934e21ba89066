"""Backups of the database and the uploaded files in one zip, and restoring from one.

Nothing here knows about requests or the Flask app: the commands in ``portal/backup.py`` hand in the
database URL, the upload folder and the limits.
"""

from evidence.backups.archive import DEFAULT_MAX_BYTES
from evidence.backups.errors import BackupError, RestoreRefused, SizeLimitExceeded
from evidence.backups.make import make_backup
from evidence.backups.restore import RestoreResult, restore_backup

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BackupError",
    "RestoreRefused",
    "RestoreResult",
    "SizeLimitExceeded",
    "make_backup",
    "restore_backup",
]
