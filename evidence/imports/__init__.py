"""Importing evidence from spreadsheets (.xlsx and .csv): survey findings, metric points, quotes,
and an edited evidence register (the Excel export), which updates the same items by reference. A file
shaped otherwise (a council's own workbook, a national file) is read through a saved layout (``layouts``).

Every row is validated first and the result shown as a preview; nothing is
written until a curator confirms an error-free preview, and then every row is
written in one transaction. Importing the same file twice changes nothing.

Adding a kind of import means writing one more ``Importer`` (see ``base`` and
``item_rows``) and listing it in ``service.IMPORTERS``.
"""

from evidence.imports.base import (
    CREATE,
    UNCHANGED,
    UPDATE,
    Column,
    Importer,
    ImportResult,
    Plan,
    PlannedRow,
    RowError,
)
from evidence.imports.cells import DATE_FORMS, PERCENT_RULE, PERIOD_FORMS
from evidence.imports.reading import LIMITS, ImportRefused, Limits, check_file, read_table
from evidence.imports.service import (
    IMPORTERS,
    ImportConflict,
    ImportNotReady,
    StoredUpload,
    UploadMissing,
    accept_upload,
    confirm_upload,
    discard_upload,
    get_importer,
    import_file,
    inspect_upload,
    load_upload,
    plan_file,
    preview_upload,
    save_layout,
    write_plan,
)
from evidence.imports.templates import template, template_csv, template_workbook

__all__ = [
    "CREATE",
    "DATE_FORMS",
    "IMPORTERS",
    "LIMITS",
    "PERCENT_RULE",
    "PERIOD_FORMS",
    "UNCHANGED",
    "UPDATE",
    "Column",
    "ImportConflict",
    "ImportNotReady",
    "ImportRefused",
    "ImportResult",
    "Importer",
    "Limits",
    "Plan",
    "PlannedRow",
    "RowError",
    "StoredUpload",
    "UploadMissing",
    "accept_upload",
    "check_file",
    "confirm_upload",
    "discard_upload",
    "get_importer",
    "import_file",
    "inspect_upload",
    "load_upload",
    "plan_file",
    "preview_upload",
    "read_table",
    "save_layout",
    "template",
    "template_csv",
    "template_workbook",
    "write_plan",
]
