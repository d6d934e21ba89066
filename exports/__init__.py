"""Inspection-ready packs: domain objects in, bytes out."""
