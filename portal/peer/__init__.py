"""The peer challenge: the reviewers' pages, and the forms the council uses to run it and respond."""
