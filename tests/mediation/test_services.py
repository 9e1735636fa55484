import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from mediation import services
from mediation.choices import Role
from mediation.models import Membership, Place, User
from tests.conftest import member

pytestmark = pytest.mark.django_db


def test_invite_creates_the_account_and_mails_a_set_password_link(
    structure, structure_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            structure=structure,
            email="  Nouveau.Mediateur@Exemple.FR ",
            first_name="Paul",
            last_name="Durand",
            role=Role.MEDIATOR,
            by=structure_admin,
        )
    user = membership.user
    assert user.email == "nouveau.mediateur@exemple.fr"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert "/compte/bienvenue/" in mail.outbox[0].body
    assert structure.name in mail.outbox[0].subject
    assert membership.history.first().history_user == structure_admin


def test_invite_sends_nothing_if_the_transaction_fails(
    structure, structure_admin, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.membership_invite(
                    structure=structure,
                    email="x@exemple.fr",
                    first_name="X",
                    last_name="Y",
                    role=Role.MEDIATOR,
                    by=structure_admin,
                )
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == [] and mail.outbox == []
    assert not User.objects.filter(email="x@exemple.fr").exists()


def test_inviting_an_existing_colleague_adds_the_structure_to_their_account(
    structure, structure_admin, django_capture_on_commit_callbacks
):
    from tests.factories import StructureFactory

    colleague = member(StructureFactory(), email="camille@exemple.fr")
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_invite(
            structure=structure,
            email="CAMILLE@exemple.fr",
            first_name="",
            last_name="",
            role=Role.MEDIATOR,
            by=structure_admin,
        )
    assert Membership.objects.filter(user=colleague).count() == 2
    assert colleague.check_password("mot-de-passe-de-test-42")
    assert "/compte/connexion/" in mail.outbox[0].body


def test_inviting_someone_twice_for_the_same_role_is_refused(structure, structure_admin, mediator):
    with pytest.raises(ValidationError) as error:
        services.membership_invite(
            structure=structure,
            email=mediator.email,
            first_name="",
            last_name="",
            role=Role.MEDIATOR,
            by=structure_admin,
        )
    assert "déjà ce rôle" in str(error.value)


def test_the_last_structure_admin_cannot_be_demoted_or_removed(structure, structure_admin):
    membership = Membership.objects.get(user=structure_admin)
    with pytest.raises(ValidationError):
        services.membership_change_role(
            membership=membership, role=Role.MEDIATOR, by=structure_admin
        )
    with pytest.raises(ValidationError):
        services.membership_remove(membership=membership, by=structure_admin)
    membership.refresh_from_db()
    assert membership.role == Role.STRUCTURE_ADMIN


def test_an_admin_can_be_removed_when_another_remains(structure, structure_admin):
    member(structure, Role.STRUCTURE_ADMIN)
    services.membership_remove(
        membership=Membership.objects.get(user=structure_admin), by=structure_admin
    )
    assert not Membership.objects.filter(user=structure_admin).exists()


def test_change_role_is_recorded_with_its_author(structure, structure_admin, mediator):
    membership = Membership.objects.get(user=mediator)
    services.membership_change_role(
        membership=membership, role=Role.COORDINATOR, by=structure_admin
    )
    latest = membership.history.first()
    assert latest.role == Role.COORDINATOR and latest.history_user == structure_admin


def test_place_save_validates_the_whole_place(structure, structure_admin):
    place = Place(
        structure=structure,
        name="Annexe",
        address="1 rue",
        postcode="355",
        commune="Lohéac",
        insee_code="35155",
    )
    with pytest.raises(ValidationError) as error:
        services.place_save(place=place, by=structure_admin)
    assert "postcode" in error.value.error_dict
    assert not Place.objects.filter(name="Annexe").exists()
