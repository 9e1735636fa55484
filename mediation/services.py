"""Writes of the core: places, the structure's settings, staff memberships, and residents'
records (create, correct, the network-sharing agreement), which the residents' pages, the desk
agenda and online booking all write through here."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from mediation.choices import AgeBand, Gender, ResidentStatus, Role, age_band_for
from mediation.history import save_with_author
from mediation.models import Membership, Place, Resident, Structure, User
from mediation.permissions import roles_for
from mediation.scoping import forget_structure_roles


@transaction.atomic
def place_save(*, place: Place, by: User) -> Place:
    """Create or update a place (validated as a whole, saved with its author)."""
    return save_with_author(place, by)


@transaction.atomic
def structure_update(*, structure: Structure, by: User) -> Structure:
    return save_with_author(structure, by)


def invitation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("invitation_accept", kwargs={"uidb64": uid, "token": token})


def invitation_send(*, user_id: int, structure_id: int, role: str, invited_by: str) -> None:
    user = User.objects.get(pk=user_id)
    structure = Structure.objects.get(pk=structure_id)
    context = {
        "user": user,
        "structure": structure,
        "role": Role(role).label,
        "invited_by": invited_by,
        "link": invitation_link(user)
        if not user.has_usable_password()
        else settings.SITE_URL + reverse("login"),
        "has_account": user.has_usable_password(),
    }
    send_mail(
        subject=_("Invitation à rejoindre %(structure)s sur Permanence")
        % {"structure": structure.name},
        message=render_to_string("mediation/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def membership_invite(
    *, structure: Structure, email: str, first_name: str, last_name: str, role: str, by: User
) -> Membership:
    """Give `email` a role in `structure`, creating the account if needed, and send an
    invitation e-mail once the transaction has committed."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
        user.set_unusable_password()
        save_with_author(user, by)
    elif Membership.objects.filter(user=user, structure=structure, role=role).exists():
        raise ValidationError({"email": _("Cette personne a déjà ce rôle dans la structure.")})
    membership = save_with_author(Membership(user=user, structure=structure, role=role), by)
    # Sent by the task cluster once the membership is saved: a slow or failing mail server
    # neither blocks the admin's page nor loses the membership (django-q2 retries).
    transaction.on_commit(
        lambda: async_task(
            "mediation.services.invitation_send",
            user_id=user.pk,
            structure_id=structure.pk,
            role=role,
            invited_by=str(by),
        )
    )
    return membership


def _ensure_an_admin_remains(membership: Membership) -> None:
    """Someone must remain who may manage the team (a structure admin)."""
    managers = roles_for("manage_team")
    if membership.role not in managers:
        return
    others = Membership.objects.filter(
        structure_id=membership.structure_id, role__in=managers, user__is_active=True
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            _(
                "La structure doit garder au moins un·e administrateur·rice. "
                "Nommez-en un·e autre avant."
            )
        )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by: User) -> Membership:
    """Change someone's role in a structure; the last structure admin cannot be demoted."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role == membership.role:
        return membership
    if Membership.objects.filter(
        user_id=membership.user_id, structure_id=membership.structure_id, role=role
    ).exists():
        raise ValidationError({"role": _("Cette personne a déjà ce rôle dans la structure.")})
    _ensure_an_admin_remains(membership)
    membership.role = role
    save_with_author(membership, by)
    forget_structure_roles(by)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a role from someone; the last structure admin cannot be removed."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _ensure_an_admin_remains(membership)
    membership._history_user = by
    membership.delete()
    forget_structure_roles(by)


# --- Residents ------------------------------------------------------------------------------

#: Change reasons written in the resident's history (stored text, shown in timelines).
SHARING_GIVEN = "Accord de partage avec le réseau donné"
SHARING_WITHDRAWN = "Accord de partage avec le réseau retiré"


def _resident_identity(
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


def _phone_confirmation(resident: Resident, *, by: User | None, previous: str, now) -> None:
    """A number typed or saved by a member of staff is confirmed by the desk (they had the
    person in front of them or on the line); a number written without an author (online
    booking) is not, and a change made without one drops the confirmation. Past the
    structure's SMS caps only confirmed numbers are texted (bookings/sms_caps.py)."""
    phone = resident.phone
    current = phone.as_e164 if phone and hasattr(phone, "as_e164") else str(phone or "")
    if not current:
        resident.phone_confirmed_at = None
    elif by is not None:
        resident.phone_confirmed_at = now
    elif current != previous:
        resident.phone_confirmed_at = None


@transaction.atomic
def resident_create(
    *,
    structure: Structure,
    by: User | None,
    first_name: str,
    last_name: str,
    phone="",
    email: str = "",
    birth_year: int | None = None,
    age_band: str = "",
    commune_insee: str = "",
    gender: str = "",
    status: str = "",
    shared_with_network: bool = False,
    now: datetime | None = None,
) -> Resident:
    """A followed resident of `structure`, with the minimum data (DOMAIN.md): the one way a
    named record is created, by the residents' pages (every field), the desk agenda (name,
    phone, e-mail) and online booking (`by` None). `phone` is already read (E.164 text or a
    PhoneNumber, by `mediation.phones` in the desk's regions). Duplicates are the callers'
    business, never a refusal here: two people may share a name (the residents' page warns,
    the desk agenda points to the known number, online booking reuses the record with the
    same phone and name). The history row names `by`, and the network-sharing agreement
    (SHARING_GIVEN) when it is given at creation."""
    now = now or timezone.now()
    resident = Resident(
        structure=structure, created_at=now, last_contact_at=now, is_anonymous=False
    )
    _resident_identity(
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
    _phone_confirmation(resident, by=by, previous="", now=now)
    return save_with_author(resident, by, SHARING_GIVEN if shared_with_network else None)


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
    previous = resident.phone.as_e164 if resident.phone else ""
    _resident_identity(
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
    _phone_confirmation(resident, by=by, previous=previous, now=timezone.now())
    return save_with_author(resident, by)


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
    return save_with_author(resident, by, SHARING_GIVEN if shared else SHARING_WITHDRAWN)
