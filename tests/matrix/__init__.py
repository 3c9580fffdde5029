"""Permission-matrix entries per domain: each module defines ENTRIES (and may define extend_world).

The roles, shared by every module. The targets are startup A's records, partner P's challenge in a programme
run by operator O:
- anonymous; startup (admin of startup A); startup_member (a member, not admin, of startup A);
  other_startup (admin of startup B);
- sponsor (admin of partner P); other_sponsor (admin of partner Q, outside the challenge);
- operator (a member, not admin, of operator O); operator_admin (an admin of operator O);
- unrelated_operator (a member of another operator organisation, which runs no programme);
- platform_admin.
"""

ROLES = (
    "anonymous",
    "startup",
    "startup_member",
    "other_startup",
    "sponsor",
    "other_sponsor",
    "operator",
    "operator_admin",
    "unrelated_operator",
    "platform_admin",
)

# the body of a destructive form whose "I confirm" box is ticked (templates/_macros/confirm.html)
CONFIRMED = {"confirm": "yes"}

# a role not named in an entry answers as the role it most resembles, unless the entry names it
RESEMBLES = {"startup_member": "startup", "operator_admin": "operator", "unrelated_operator": "other_sponsor"}


def expect(default: int, **per_role: int) -> dict[str, int]:
    unknown = set(per_role) - set(ROLES)
    assert not unknown, unknown
    answers = {role: per_role.get(role, default) for role in ROLES}
    for role, like in RESEMBLES.items():
        if role not in per_role:
            answers[role] = answers[like]
    return answers
