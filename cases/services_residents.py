"""Writes of residents at the desk: create and edit with the minimum data, record the
network-sharing agreement, merge duplicates.

Each function is one transaction with its author in the history (`_history_user`); a refusal
is a ValidationError naming the field it concerns, with a French message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from bookings.models import Appointment
from cases.models import Case, HelpSession
from mediation.choices import AgeBand, Gender, ResidentStatus, age_band_for
from mediation.models import Resident, Structure, User

#: Change reasons written in the resident's history (stored text, shown in timelines).
SHARING_GIVEN = "Accord de partage avec le réseau donné"
SHARING_WITHDRAWN = "Accord de partage avec le réseau retiré"

#: Fields a merge copies from the removed record when the kept one has nothing.
MERGE_FILLED_FIELDS = ("first_name", "last_name", "phone", "email", "commune_insee")
MERGE_NOT_GIVEN_FIELDS = {
    "gender": Gender.NOT_GIVEN,
    "status": ResidentStatus.NOT_GIVEN,
}


def _save_with_author(obj, by: User | None, reason: str | None = None):
    # simple-history takes the author from the request middleware; services also run from
    # commands and tasks, where there is no request.
    if by is not None:
        obj._history_user = by
    if reason:
        obj._change_reason = reason
    obj.full_clean()
    obj.save()
    return obj


def _identity(
    resident: Resident,
    *,
    first_name: str,
    last_name: str,
    phone: str,
    email: str,
    birth_year: int | None,
    age_band: str,
    commune_insee: str,
    gender: str,
    status: str,
    today_year: int,
) -> None:
    """Check and set the identity fields (minimum data); ValidationError at the fields."""
    errors = {}
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        errors["first_name"] = _("Indiquez le prénom de la personne.")
    if not last_name:
        errors["last_name"] = _("Indiquez le nom de la personne, ou au moins ses initiales.")
    if birth_year is not None and not 1900 <= birth_year <= today_year:
        errors["birth_year"] = _(
            "L'année de naissance doit être comprise entre 1900 et %(year)s."
        ) % {"year": today_year}
    if errors:
        raise ValidationError(errors)
    resident.first_name = first_name
    resident.last_name = last_name
    resident.phone = phone or ""
    resident.email = (email or "").strip().lower()
    resident.birth_year = birth_year
    # The age band follows the year when it is known; otherwise it is what the person said.
    resident.age_band = (
        age_band_for(birth_year, today_year) if birth_year else (age_band or AgeBand.NOT_GIVEN)
    )
    resident.commune_insee = (commune_insee or "").strip().upper()
    resident.gender = gender or Gender.NOT_GIVEN
    resident.status = status or ResidentStatus.NOT_GIVEN


@transaction.atomic
def resident_create(
    *,
    structure: Structure,
    by: User | None,
    first_name: str,
    last_name: str,
    phone: str = "",
    email: str = "",
    birth_year: int | None = None,
    age_band: str = "",
    commune_insee: str = "",
    gender: str = "",
    status: str = "",
    shared_with_network: bool = False,
    now: datetime | None = None,
) -> Resident:
    """A followed resident of `structure`, with the minimum data (DOMAIN.md). `phone` is already
    in E.164 (the form reads it in the desk's regions). Duplicates are the form's warning, not
    a refusal: two people may share a name."""
    now = now or timezone.now()
    resident = Resident(
        structure=structure, created_at=now, last_contact_at=now, is_anonymous=False
    )
    _identity(
        resident,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        birth_year=birth_year,
        age_band=age_band,
        commune_insee=commune_insee,
        gender=gender,
        status=status,
        today_year=timezone.localdate(now).year,
    )
    resident.shared_with_network = bool(shared_with_network)
    return _save_with_author(resident, by, SHARING_GIVEN if shared_with_network else None)


@transaction.atomic
def resident_update(
    *,
    resident: Resident,
    by: User | None,
    first_name: str,
    last_name: str,
    phone: str = "",
    email: str = "",
    birth_year: int | None = None,
    age_band: str = "",
    commune_insee: str = "",
    gender: str = "",
    status: str = "",
) -> Resident:
    """Correct a followed resident's identity (the network-sharing choice has its own
    service). An anonymous record keeps no identity: refused."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.is_anonymous:
        raise ValidationError(_("Cette fiche est anonyme : elle ne contient aucune identité."))
    _identity(
        resident,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        birth_year=birth_year,
        age_band=age_band,
        commune_insee=commune_insee,
        gender=gender,
        status=status,
        today_year=timezone.localdate().year,
    )
    return _save_with_author(resident, by)


@transaction.atomic
def resident_set_sharing(*, resident: Resident, shared: bool, by: User | None) -> Resident:
    """Record the resident's choice about the other structures of the network seeing their
    record. The history row (who, when, SHARING_GIVEN or SHARING_WITHDRAWN) is the record of
    the agreement. Recording the same choice again changes nothing."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.is_anonymous:
        raise ValidationError(
            {"shared_with_network": _("Une fiche anonyme ne peut pas être partagée.")}
        )
    if resident.shared_with_network == bool(shared):
        return resident
    resident.shared_with_network = bool(shared)
    return _save_with_author(resident, by, SHARING_GIVEN if shared else SHARING_WITHDRAWN)


# --- Merge ----------------------------------------------------------------------------------


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
    _save_with_author(keep, by, reason)

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
