from mediation.choices import Role
from mediation.models import Structure
from mediation.scoping import structure_roles


def navigation(request):
    """The structures of the signed-in user, for the navigation and the structure switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = structure_roles(user)
    structures = list(Structure.objects.visible_to(user).only("name", "slug").order_by("name"))
    for structure in structures:
        held = roles.get(structure.pk, frozenset())
        structure.nav_is_admin = Role.STRUCTURE_ADMIN in held
        structure.nav_is_coordinator = Role.COORDINATOR in held
    current = getattr(request, "structure", None)
    held = roles.get(current.pk, frozenset()) if current else frozenset()
    return {
        "nav_structures": structures,
        "current_structure": current,
        # The desk pages (agenda, booking by phone) are for mediators and structure admins.
        "current_structure_desk": bool(held & {Role.MEDIATOR, Role.STRUCTURE_ADMIN}),
    }
