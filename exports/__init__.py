"""Inspection-ready packs: domain objects in, bytes out."""


class ExportUnavailable(RuntimeError):
    """A format needs software this machine does not have (the PDF needs Pango); the message says what."""
