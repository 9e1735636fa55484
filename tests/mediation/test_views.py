import pytest
from django.urls import reverse

from mediation.choices import Role
from mediation.models import Membership, Place
from tests.conftest import member
from tests.factories import (
    NetworkFactory,
    NetworkMembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_home_sends_anonymous_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


def test_failed_login_says_why_in_french_and_keeps_the_email(client, mediator):
    response = client.post(reverse("login"), {"username": mediator.email, "password": "faux"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in body
    assert f'value="{mediator.email}"' in body


def test_login_is_case_insensitive_on_the_email(client, mediator):
    response = client.post(
        reverse("login"),
        {"username": mediator.email.upper(), "password": "mot-de-passe-de-test-42"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_mediator_lands_on_their_day_with_their_places(mediator_client, place):
    body = mediator_client.get("/").content.decode()
    assert "Ma journée" in body and place.name in body
    assert "Administration de structure" not in body


def test_coordinator_lands_on_the_overview_of_their_network(client):
    network = NetworkFactory()
    structures = [StructureFactory(networks=[network]) for _ in range(2)]
    ResidentFactory.create_batch(3, structure=structures[0])
    user = UserFactory()
    NetworkMembershipFactory(user=user, network=network)
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "ensemble des structures coordonnées" in body
    assert all(s.name in body for s in structures)
    assert "Ma journée" not in body


def test_structure_admin_lands_on_the_management_page(admin_client_structure, structure):
    body = admin_client_structure.get("/").content.decode()
    assert "Administration de structure" in body
    assert reverse("team", kwargs={"structure": structure.slug}) in body


def test_home_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    network = NetworkFactory()
    user = UserFactory()
    NetworkMembershipFactory(user=user, network=network)
    for _ in range(15):
        structure = StructureFactory(networks=[network])
        Membership.objects.create(user=user, structure=structure, role=Role.MEDIATOR)
        Membership.objects.create(user=user, structure=structure, role=Role.STRUCTURE_ADMIN)
        PlaceFactory.create_batch(2, structure=structure)
        ResidentFactory.create_batch(2, structure=structure)
    client.force_login(user)
    # 10 for the sections, and three for "Ma journée" (its appointments, the follow-ups due,
    # the structures of the walk-in button); tests/bookings/test_my_day.py counts it full.
    with django_assert_max_num_queries(13):
        assert client.get("/").status_code == 200


def test_team_and_places_pages_run_a_bounded_number_of_queries(
    admin_client_structure, structure, django_assert_max_num_queries
):
    for _ in range(20):
        member(structure)
        PlaceFactory(structure=structure)
    for name in ("team", "place_list", "structure_home"):
        with django_assert_max_num_queries(10):
            response = admin_client_structure.get(
                reverse(name, kwargs={"structure": structure.slug})
            )
            assert response.status_code == 200


def test_mediator_cannot_open_the_admin_pages_of_their_structure(mediator_client, structure):
    for name in ("team", "team_invite", "place_create", "structure_edit"):
        response = mediator_client.get(reverse(name, kwargs={"structure": structure.slug}))
        assert response.status_code == 403
        assert "Accès refusé" in response.content.decode()


def test_place_form_shows_french_errors_at_the_field_and_keeps_the_input(
    admin_client_structure, structure
):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url,
        {
            "name": "Annexe des Landes",
            "address": "3 rue des Landes",
            "postcode": "3555",
            "commune": "Lohéac",
            "insee_code": "ABCDE",
            "time_zone": "Europe/Paris",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Le code postal compte 5 chiffres." in body
    assert "Aucune commune ne correspond à « ABCDE »" in body
    assert 'value="Annexe des Landes"' in body and 'value="3 rue des Landes"' in body
    assert 'value="ABCDE"' in body
    assert not Place.objects.filter(name="Annexe des Landes").exists()


def test_a_place_in_a_time_zone_its_commune_does_not_use_is_refused_at_the_field(
    admin_client_structure, structure
):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    data = {
        "name": "Annexe",
        "address": "3 rue des Landes",
        "postcode": "35550",
        "insee_code": "35155",  # Lohéac, in métropole
        "time_zone": "Pacific/Noumea",
        "is_active": "on",
    }
    response = admin_client_structure.post(url, data)
    assert response.status_code == 200
    assert "n&#x27;est pas celui de la commune" in response.content.decode()
    assert response.context["form"].errors["time_zone"]
    assert response.context["form"]["name"].value() == "Annexe"  # what was typed is kept
    assert not Place.objects.filter(name="Annexe").exists()


def test_structure_admin_adds_and_edits_a_place(admin_client_structure, structure):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url,
        {
            "name": "Annexe des Landes",
            "address": "3 rue des Landes",
            "postcode": "97410",
            "commune": "Saint-Pierre",
            "insee_code": "Saint-Pierre 97410",
            "time_zone": "Indian/Reunion",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    place = Place.objects.get(name="Annexe des Landes")
    assert place.structure == structure and place.time_zone == "Indian/Reunion"
    edit = reverse("place_edit", kwargs={"structure": structure.slug, "place": place.pk})
    assert admin_client_structure.get(edit).status_code == 200


def test_duplicate_place_name_gets_a_message_not_an_error(admin_client_structure, structure, place):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url,
        {
            "name": place.name,
            "address": "3 rue",
            "postcode": "35550",
            "commune": "Lohéac",
            "insee_code": "35155",
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 200
    assert "existe déjà" in response.content.decode()


def test_admin_invites_through_the_form(
    admin_client_structure, structure, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("team_invite", kwargs={"structure": structure.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_structure.post(
            url,
            {
                "email": "lea@exemple.fr",
                "first_name": "Léa",
                "last_name": "Martin",
                "role": Role.MEDIATOR,
            },
        )
    assert response.status_code == 302
    assert Membership.objects.filter(user__email="lea@exemple.fr", structure=structure).exists()
    assert len(mailoutbox) == 1


def test_invite_form_with_a_bad_email_keeps_what_was_typed(admin_client_structure, structure):
    url = reverse("team_invite", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url, {"email": "lea@", "first_name": "Léa", "last_name": "Martin", "role": "mediator"}
    )
    body = response.content.decode()
    assert "Saisissez une adresse de courriel valide." in body
    assert 'value="Léa"' in body


def test_removing_the_last_admin_is_refused_with_a_message(
    admin_client_structure, structure, structure_admin
):
    membership = Membership.objects.get(user=structure_admin)
    url = reverse(
        "membership_remove", kwargs={"structure": structure.slug, "membership": membership.pk}
    )
    response = admin_client_structure.post(url, follow=True)
    assert "au moins un·e administrateur·rice" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_removal_asks_for_a_confirmation_before_removing(
    admin_client_structure, structure, mediator
):
    membership = Membership.objects.get(user=mediator)
    url = reverse(
        "membership_remove", kwargs={"structure": structure.slug, "membership": membership.pk}
    )
    team = admin_client_structure.get(reverse("team", kwargs={"structure": structure.slug}))
    assert f'href="{url}"' in team.content.decode()

    page = admin_client_structure.get(url)

    body = page.content.decode()
    assert page.status_code == 200
    assert "Médiateur" in body and "n&#x27;aura plus le rôle" in body
    assert "C&#x27;est son seul rôle" in body
    assert ">Confirmer</button>" in body and ">Annuler</a>" in body
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert admin_client_structure.post(url).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_role_change_refused_shows_the_reason_at_the_field(
    admin_client_structure, structure, structure_admin
):
    membership = Membership.objects.get(user=structure_admin)
    url = reverse(
        "membership_edit", kwargs={"structure": structure.slug, "membership": membership.pk}
    )
    response = admin_client_structure.post(url, {"role": Role.MEDIATOR})
    assert response.status_code == 200
    assert "au moins un·e administrateur·rice" in response.content.decode()


def test_unknown_url_gives_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_server_error_page_is_in_french(client):
    from mediation.views.staff import error_500

    response = error_500(None)
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()


def test_password_reset_sends_a_french_email(client, mediator, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": mediator.email})
    assert response.status_code == 302
    assert "nouveau mot de passe" in mailoutbox[0].body


def test_invitation_link_lets_the_new_person_choose_a_password(client, structure, structure_admin):
    from mediation.services import invitation_link

    user = UserFactory(email="nouvelle@exemple.fr")
    user.set_unusable_password()
    user.save()
    link = invitation_link(user).split("127.0.0.1:8000")[-1]
    response = client.get(link, follow=True)
    assert "choisissez votre mot de passe" in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {
            "new_password1": "un-mot-de-passe-solide-2026",
            "new_password2": "un-mot-de-passe-solide-2026",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("un-mot-de-passe-solide-2026")


@pytest.mark.parametrize("user_value", ["abc", "0000-00-00", "9" * 30, "-1"])
def test_operators_admin_says_a_forged_user_is_invalid_instead_of_failing(
    client, structure, user_value
):
    # Django's autocomplete widget looked the forged value up to show it again (500).
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in (
        "/operateurs/mediation/membership/add/",
        "/operateurs/mediation/networkmembership/add/",
    ):
        response = client.post(
            url, {"user": user_value, "structure": structure.pk, "role": "mediator"}
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["user"]


def test_a_structure_admins_home_links_to_the_agenda_reports_and_journal(
    admin_client_structure, structure
):
    body = admin_client_structure.get(reverse("home")).content.decode()
    for name in ("agenda", "report_dashboard", "access_journal"):
        assert f'href="{reverse(name, kwargs={"structure": structure.slug})}"' in body
    for name in ("agenda", "report_dashboard", "access_journal"):
        url = reverse(name, kwargs={"structure": structure.slug})
        assert admin_client_structure.get(url).status_code == 200
