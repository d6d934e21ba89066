"""Working together: notifications in the portal and by email, comments, mentions."""
