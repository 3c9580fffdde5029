"""Permission-matrix entries per domain: each module defines ENTRIES (and may define extend_world).

The roles, shared by every module. The targets are startup A's records, partner P's challenge in a programme
run by operator O:
- anonymous; startup (admin of startup A); startup_member (a member, not admin, of startup A);
  other_startup (admin of startup B);
- sponsor (admin of partner P); other_sponsor (admin of partner Q, outside the challenge);
- operator (a member, not admin, of operator O); operator_admin (an admin of operator O);
- unrelated_operator (a member of another operator organisation, which runs no programme);
- platform_admin;
- the jury's (tests/matrix/jury.py builds its world: a challenge of partner P past its deadline, with an open
  round judging startup A's and startup B's proposals): juror (a member of partner J, which sponsors nothing,
  seated in the open round and assigned A's proposal); conflicted_juror (no organisation, an address at startup
  A's domain, so automatically conflicted with A; seated in the open round and assigned B's proposal only);
  other_round_juror (no organisation, seated in another round of the challenge only); outside_expert (no
  organisation, invited by email and accepted, seated in the open round and assigned A's proposal).
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
    "juror",
    "conflicted_juror",
    "other_round_juror",
    "outside_expert",
)

# the body of a destructive form whose "I confirm" box is ticked (templates/_macros/confirm.html)
CONFIRMED = {"confirm": "yes"}

# a role not named in an entry answers as the role it most resembles, unless the entry names it
# (the jury's roles have no say outside the jury: elsewhere they answer as a signed-in outsider does)
RESEMBLES = {
    "startup_member": "startup",
    "operator_admin": "operator",
    "unrelated_operator": "other_sponsor",
    "juror": "other_sponsor",
    "conflicted_juror": "other_sponsor",
    "other_round_juror": "other_sponsor",
    "outside_expert": "other_sponsor",
}


def expect(default: int, **per_role: int) -> dict[str, int]:
    unknown = set(per_role) - set(ROLES)
    assert not unknown, unknown
    answers = {role: per_role.get(role, default) for role in ROLES}
    for role, like in RESEMBLES.items():
        if role not in per_role:
            answers[role] = answers[like]
    return answers
