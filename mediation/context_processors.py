from django.utils import timezone

from mediation.models import Structure
from mediation.navigation import nav_count_annotations, nav_counts_of
from mediation.permissions import user_can


def navigation(request):
    """The structures of the signed-in user, for the navigation and the structure switcher, and
    the counts beside the current structure's links (`mediation/navigation.py`), read by the
    same query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "structure", None)
    structures = Structure.objects.visible_to(user).only("name", "slug").order_by("name")
    if current is not None:
        structures = structures.annotate(**nav_count_annotations(user, current, timezone.now()))
    structures = list(structures)
    nav_counts = {}
    for structure in structures:
        structure.nav_is_admin = user_can(user, "manage_structure", structure)
        structure.nav_is_coordinator = user_can(user, "oversee_structures", structure)
        if current is not None and structure.pk == current.pk:
            nav_counts = nav_counts_of(structure)
    return {
        "nav_structures": structures,
        "current_structure": current,
        # The desk pages (agenda, booking by phone).
        "current_structure_desk": bool(current) and user_can(user, "book_at_desk", current),
        # {url name: number} beside the menu's links ("Suivis 3").
        "nav_counts": nav_counts,
    }
