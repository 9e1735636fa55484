from mediation.models import Structure
from mediation.permissions import user_can


def navigation(request):
    """The structures of the signed-in user, for the navigation and the structure switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    structures = list(Structure.objects.visible_to(user).only("name", "slug").order_by("name"))
    for structure in structures:
        structure.nav_is_admin = user_can(user, "manage_structure", structure)
        structure.nav_is_coordinator = user_can(user, "oversee_structures", structure)
    current = getattr(request, "structure", None)
    return {
        "nav_structures": structures,
        "current_structure": current,
        # The desk pages (agenda, booking by phone).
        "current_structure_desk": bool(current) and user_can(user, "book_at_desk", current),
    }
