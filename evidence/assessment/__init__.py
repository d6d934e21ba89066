"""Assessment rounds: statement scores and their rationale, actions, gaps, the roll-up, sign-off and
the frozen view of a round."""
