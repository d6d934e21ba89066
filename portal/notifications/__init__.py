"""Notifications: the bell, the list, each person's settings, the links, the email digests and `flask notify`."""
