"""Who may come in and what they may do: accounts, roles, sessions, sign-in throttling, single
sign-on and API tokens."""
