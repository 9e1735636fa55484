"""Writes of the core: places, the structure's settings, and staff memberships."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from mediation.choices import Role
from mediation.models import Membership, Place, Structure, User
from mediation.permissions import roles_for
from mediation.scoping import forget_structure_roles


def _save_with_author(obj, by: User | None):
    # simple-history takes the author from the request middleware; services also run from
    # tasks and commands, where there is no request.
    if by is not None:
        obj._history_user = by
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def place_save(*, place: Place, by: User) -> Place:
    """Create or update a place (validated as a whole, saved with its author)."""
    return _save_with_author(place, by)


@transaction.atomic
def structure_update(*, structure: Structure, by: User) -> Structure:
    return _save_with_author(structure, by)


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
        _save_with_author(user, by)
    elif Membership.objects.filter(user=user, structure=structure, role=role).exists():
        raise ValidationError({"email": _("Cette personne a déjà ce rôle dans la structure.")})
    membership = _save_with_author(Membership(user=user, structure=structure, role=role), by)
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
    _save_with_author(membership, by)
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
