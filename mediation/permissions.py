"""Who may do what: the one table of the project.

Each action a staff member may take in a structure is mapped to the roles that allow it there.
Views declare their action (`@structure_view("book_at_desk")`, `@network_view(...)`); services,
selectors and templates' flags ask `user_can(user, action, structure)`; scoped reads take the
action too (`Model.objects.visible_to(user, "book_at_desk")`, `access_object(..., "follow_case",
...)`), and the few filters on memberships (who may be a case's referent, who takes
appointments) use `roles_for(action)`. No other module lists roles for an access decision: to
change who may do something, change this table (and `tests/mediation/test_permissions_table.py`,
which states the same matrix and walks every URL for every role against it).

The roles themselves are defined in `mediation.choices.Role`; which roles a user holds in each
structure is computed by `mediation.scoping.structure_roles` (their memberships, plus the roles
a network coordinator holds on every structure of their networks, below).
"""

from __future__ import annotations

from types import MappingProxyType

from mediation.choices import Role

M, C, A = Role.MEDIATOR, Role.COORDINATOR, Role.STRUCTURE_ADMIN

#: The roles a coordinator of a network (`NetworkMembership`) holds on every structure linked
#: to that network.
NETWORK_COORDINATOR_ROLES = frozenset({C})

#: Action → the roles, any of which allows it in a structure.
PERMISSIONS = MappingProxyType(
    {
        # The structure's home page, its places, the booking settings (read) and the poster.
        "view_structure": frozenset({M, C, A}),
        # The structure's information and its places; the home page's administration section.
        "manage_structure": frozenset({A}),
        # The team page (who works here, with their roles).
        "view_team": frozenset({A, C}),
        # Invite, change a role, remove a role, reset a second factor. A structure always keeps
        # at least one person holding it.
        "manage_team": frozenset({A}),
        # Motifs, opening hours and booking rules.
        "manage_booking_settings": frozenset({A}),
        # Be the person of opening hours and absences; the home page's "Ma journée".
        "take_appointments": frozenset({M}),
        # The absence pages: list, record and delete one's own absences.
        "record_absences": frozenset({M, A}),
        # Record or delete the absences of someone else.
        "record_absences_of_others": frozenset({A}),
        # The desk agenda: appointments' outcome and cancellation, booking for a resident with
        # any colleague; so also "À réaffecter": giving the appointments of someone who left
        # to a colleague, or cancelling them (no more than cancelling and booking again).
        "book_at_desk": frozenset({M, A}),
        # The messages sent to residents (SMS, e-mail) and their results.
        "view_outbox": frozenset({M, A}),
        # Named residents: search, create, edit, share, merge, export, erase.
        "manage_residents": frozenset({M, A}),
        # The activity log: log, list, edit and delete one's own sessions; be a session's
        # mediator.
        "log_session": frozenset({M, A}),
        # Edit or delete a session someone else logged and led.
        "change_others_sessions": frozenset({A}),
        # Cases: open, read, edit, change their status, attach sessions; be a case's referent.
        "follow_case": frozenset({M, A}),
        # "Mes suivis": the open cases needing action (names for those who `follow_case`).
        "view_followups": frozenset({M, C, A}),
        # The access log of the structure.
        "review_access_log": frozenset({C, A}),
        # The structure's activity reports: dashboard, downloads, archives (and their e-mail).
        "export_structure_report": frozenset({C, A}),
        # A network's activity reports (a network is open to those who hold one of these roles
        # on one of its structures).
        "export_network_report": frozenset({C}),
        # The home page's overview of the structures one coordinates, and their networks.
        "oversee_structures": frozenset({C}),
        # The read API (`api/`): create and revoke the structure's API clients, choose whether
        # the free-text precisions of its sessions go out through it.
        "manage_api_clients": frozenset({A}),
        # A network's API clients (they read every structure of the network: creating or
        # revoking one needs this action on all of them).
        "manage_network_api_clients": frozenset({C}),
    }
)


class UnknownAction(KeyError):
    pass


def roles_for(action: str) -> frozenset[str]:
    """The roles that allow `action`. An action missing from the table is an error, never a
    silent refusal or grant."""
    try:
        return PERMISSIONS[action]
    except KeyError:
        raise UnknownAction(
            f"{action!r} is not an action of mediation.permissions.PERMISSIONS"
        ) from None


def user_can(user, action: str, structure) -> bool:
    """May `user` do `action` in `structure` (an instance or its id)?"""
    from mediation.scoping import has_role

    return has_role(user, structure, action)
