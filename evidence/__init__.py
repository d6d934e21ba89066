"""The evidence domain: items, mappings, rounds, imports and checks, free of request handling."""
