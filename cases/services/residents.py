"""Merging duplicate residents: the records themselves are written by `mediation.services`
(`resident_create`, `resident_update`, `resident_set_sharing`); a merge also moves the
sessions, cases and appointments, which the core does not know.

One transaction with its author in the history (`_history_user`); a refusal is a
ValidationError naming the field it concerns, with a French message."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from bookings.models import Appointment
from cases.models import Case, HelpSession
from mediation.choices import AgeBand, Gender, ResidentStatus
from mediation.history import save_with_author
from mediation.models import Resident, User

#: Fields a merge copies from the removed record when the kept one has nothing.
MERGE_FILLED_FIELDS = ("first_name", "last_name", "phone", "email", "commune_insee")
MERGE_NOT_GIVEN_FIELDS = {
    "gender": Gender.NOT_GIVEN,
    "status": ResidentStatus.NOT_GIVEN,
}


@dataclass(frozen=True)
class MergeResult:
    resident: Resident
    sessions: int
    workshops: int
    cases: int
    appointments: int


def merge_refusal(keep: Resident, remove: Resident) -> str | None:
    """Why `remove` may not be merged into `keep` (a French sentence), or None. Shared by the
    service and the confirmation page, which says it before the button is pressed."""
    if keep.pk == remove.pk:
        return _(
            "Choisissez une autre fiche : une fiche ne peut pas être fusionnée avec elle-même."
        )
    if keep.structure_id != remove.structure_id:
        return _(
            "Ces deux fiches appartiennent à deux structures différentes : elles ne peuvent pas "
            "être fusionnées. Seule la structure qui a créé une fiche peut la fusionner."
        )
    if keep.is_anonymous or remove.is_anonymous:
        return _(
            "Une fiche anonyme ne peut pas être fusionnée : elle ne contient aucune identité "
            "qui permette de dire qu'il s'agit de la même personne."
        )
    return None


def _move(model, objs: list, field: str, keep: Resident, by: User | None, reason: str) -> int:
    """Point `field` of `objs` at `keep`, with one history row each (author and reason)."""
    for obj in objs:
        setattr(obj, field, keep)
    if objs:
        bulk_update_with_history(
            objs, model, [field], default_user=by, default_change_reason=reason
        )
    return len(objs)


@transaction.atomic
def resident_merge(*, keep: Resident, remove: Resident, by: User | None) -> MergeResult:
    """Merge the duplicate `remove` into `keep`, in one transaction: its sessions (as the
    resident helped or as a workshop participant), cases and appointments move to `keep`;
    `keep`'s empty fields are filled from `remove`; `remove` is deleted.

    Both records must belong to the same structure and be named (not anonymous). The kept
    record keeps its own network-sharing choice (the removed one's is not carried over: the
    agreement is given for a record, and widening it silently would not be the person's
    choice). The history shows the merge on `keep` ("Fusion avec l'usager n°X"), on the
    removed record's deletion row, and on every session, case and appointment moved."""
    locked = {
        r.pk: r
        for r in Resident.objects.select_for_update()
        .filter(pk__in=[keep.pk, remove.pk])
        .order_by("pk")
    }
    if keep.pk not in locked or remove.pk not in locked:
        raise ValidationError({"remove": _("Cette fiche n'existe plus.")})
    keep, remove = locked[keep.pk], locked[remove.pk]
    refusal = merge_refusal(keep, remove)
    if refusal is not None:
        raise ValidationError({"remove": refusal}, code="merge_refused")

    reason = f"Fusion avec l'usager n°{remove.pk}"
    sessions = _move(
        HelpSession, list(HelpSession.objects.filter(resident=remove)), "resident", keep, by, reason
    )
    cases = _move(Case, list(Case.objects.filter(resident=remove)), "resident", keep, by, reason)
    appointments = _move(
        Appointment, list(Appointment.objects.filter(resident=remove)), "resident", keep, by, reason
    )
    # Workshops: through the relation's manager, so that each workshop's history records it.
    already = set(keep.workshop_sessions.values_list("pk", flat=True))
    workshops = list(HelpSession.objects.filter(participants=remove))
    for workshop in workshops:
        if by is not None:
            workshop._history_user = by
        workshop._change_reason = reason
        workshop.participants.remove(remove)
        if workshop.pk not in already:
            workshop.participants.add(keep)

    for name in MERGE_FILLED_FIELDS:
        if not getattr(keep, name) and getattr(remove, name):
            setattr(keep, name, getattr(remove, name))
    if keep.phone and keep.phone == remove.phone:
        # The desk's confirmation of the number (SMS caps) follows it.
        keep.phone_confirmed_at = keep.phone_confirmed_at or remove.phone_confirmed_at
    if keep.birth_year is None and remove.birth_year is not None:
        keep.birth_year = remove.birth_year
        keep.age_band = remove.age_band
    if keep.age_band == AgeBand.NOT_GIVEN:
        keep.age_band = remove.age_band
    for name, not_given in MERGE_NOT_GIVEN_FIELDS.items():
        if getattr(keep, name) in ("", not_given):
            setattr(keep, name, getattr(remove, name))
    keep.created_at = min(keep.created_at, remove.created_at)
    keep.last_contact_at = max(keep.last_contact_at, remove.last_contact_at)
    save_with_author(keep, by, reason)

    if by is not None:
        remove._history_user = by
    remove._change_reason = f"Fusionné dans l'usager n°{keep.pk}"
    try:
        remove.delete()
    except (ProtectedError, RestrictedError) as error:
        # Something else points at the record (a model this merge does not know yet): refuse
        # rather than lose it. The transaction rolls everything above back.
        names = sorted({obj._meta.verbose_name_plural for obj in error.args[1]})
        raise ValidationError(
            {
                "remove": _(
                    "La fiche en double est encore liée à d'autres données (%(what)s) : "
                    "la fusion n'a pas été faite."
                )
                % {"what": ", ".join(str(n) for n in names)}
            }
        ) from error
    return MergeResult(
        resident=keep,
        sessions=sessions,
        workshops=len(workshops),
        cases=cases,
        appointments=appointments,
    )
