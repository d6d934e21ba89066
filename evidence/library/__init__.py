"""The evidence library: items through their life, their mappings onto statements, metric series,
search, stored files and the checks on what is uploaded."""
