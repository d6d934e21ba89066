"""Who is who: the groups of roles the portal's rules are written in, and the one check of a person's role.

The permission rule of every view (``portal.permissions.allow``), the pages that show
or hide what a role may do, and the domain's own object-level rules (who may view an
item or add to a metric) all ask ``has_role``.
"""

from __future__ import annotations

from evidence.vocab import Role

SIGNED_IN = tuple(Role)
# The council's own people. A peer reviewer is from elsewhere: they read only the rounds they are invited to
# (``evidence.assessment.peer``), so they are in none of the groups below and submit nothing.
COUNCIL = (Role.ADMIN, Role.QUALITY_LEAD, Role.MANAGER, Role.STAFF)
PEER_REVIEWERS = (Role.PEER_REVIEWER,)
CURATORS = (Role.ADMIN, Role.QUALITY_LEAD)  # review, map, import and score evidence
READERS = (Role.ADMIN, Role.QUALITY_LEAD, Role.MANAGER)  # read the portfolio and the self-assessment
SIGNERS = (Role.MANAGER, Role.ADMIN)  # sign a round off
ADMINS = (Role.ADMIN,)


def has_role(user, *roles: str) -> bool:
    """Is ``user`` signed in, with an account that may sign in, in one of ``roles``?"""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "role", None) in {str(r) for r in roles}
    )
