"""Users, organisations, memberships, invitations, sessions and API tokens."""
