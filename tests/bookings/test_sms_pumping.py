"""SMS pumping (issue 17, fix 3): the public pages take only numbers of the structure's
territories, and past the structure's SMS caps only numbers the desk confirmed are texted."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings import tasks
from bookings.choices import Channel, MessageStatus
from bookings.messaging import read_outbox
from bookings.models import Appointment, Notification, WaitlistEntry
from bookings.services import booking as services
from bookings.slots import next_free_slots
from bookings.sms_caps import OVER_CAP
from mediation.choices import Role
from mediation.models import Resident, Structure
from mediation.services import resident_create, resident_update
from tests.bookings.test_public import IDENTITY, desk, details_url, query  # noqa: F401
from tests.conftest import member

pytestmark = pytest.mark.django_db

RUSSIAN = "+7 912 345-67-89"
CUBAN = "+53 5 123 4567"


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    cache.clear()
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    yield
    cache.clear()


def waitlist_url(structure, place, motif):
    return reverse("public_waitlist", kwargs={"structure": structure.slug}) + query(place, motif)


def book(client, desk, **identity):  # noqa: F811
    structure, place, motif = desk
    taken = Appointment.objects.values_list("starts_at", flat=True)
    slot = next(
        s for s in next_free_slots(place=place, motif=motif, count=40) if s.starts_at not in taken
    )
    return client.post(
        details_url(structure, place, motif, slot.starts_at), {**IDENTITY, **identity}
    )


# --- Territories ------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [RUSSIAN, CUBAN])
def test_a_foreign_mobile_is_refused_at_online_booking(client, desk, phone):  # noqa: F811
    response = book(client, desk, phone=phone)
    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == [
        "Seuls les numéros de France (métropole et outre-mer) sont acceptés en ligne. "
        "Pour un autre numéro, appelez la structure."
    ]
    assert not Appointment.objects.exists() and not Resident.objects.exists()
    assert not read_outbox()


@pytest.mark.parametrize("phone", [RUSSIAN, CUBAN])
def test_a_foreign_mobile_is_refused_on_the_waiting_list(client, desk, phone):  # noqa: F811
    response = client.post(
        waitlist_url(*desk), {"first_name": "Ivan", "phone": phone, "website": ""}
    )
    assert response.status_code == 400
    assert "Seuls les numéros de France" in response.context["form"].errors["phone"][0]
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "+262 692 12 34 56",
        "+590 690 12 34 56",
        "+687 75 12 34",
        "+689 87 12 34 56",
    ],
)
def test_numbers_of_every_french_territory_book_online(client, desk, phone):  # noqa: F811
    assert book(client, desk, phone=phone).status_code == 302


def test_a_structure_may_accept_other_countries(client, desk):  # noqa: F811
    structure, place, motif = desk
    Structure.objects.filter(pk=structure.pk).update(online_phone_codes=[33, 32])
    assert book(client, desk, phone="+32 470 12 34 56").status_code == 302
    refused = book(client, desk, phone="+262 692 12 34 56")
    assert refused.status_code == 400
    assert "commençant par +33 +32" in refused.context["form"].errors["phone"][0]


def test_the_services_refuse_a_foreign_number_too(desk):  # noqa: F811
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    with pytest.raises(ValidationError) as refused:
        services.public_booking_make(
            place=place,
            motif=motif,
            starts_at=slot.starts_at,
            first_name="Ivan",
            last_name="Petrov",
            phone="+79123456789",
        )
    assert "phone" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.waitlist_join(place=place, motif=motif, first_name="Ivan", phone="+5351234567")


def test_the_admin_sets_the_countries_accepted_online(client, desk):  # noqa: F811
    structure = desk[0]
    admin = member(structure, Role.STRUCTURE_ADMIN)
    client.force_login(admin)
    url = reverse("booking_rules", kwargs={"structure": structure.slug})
    page = client.get(url).content.decode()
    assert "+33 +262 +508 +590 +594 +596 +681 +687 +689" in page
    rules = {
        "cancel_cutoff_hours": 4,
        "reminder_hours_before": 48,
        "feed_detail": "initials",
        "booking_published": "true",
    }
    bad = client.post(url, {**rules, "online_phone_codes": "+33 +999"})
    assert bad.status_code == 200
    assert "« +999 » n&#x27;est pas un indicatif de pays" in bad.content.decode()
    client.post(url, {**rules, "online_phone_codes": "+33, +32 ; +33"})
    structure.refresh_from_db()
    assert structure.online_phone_codes == [33, 32]


# --- The desk's confirmation of a number ------------------------------------------------------


def test_a_number_typed_by_staff_is_confirmed_one_given_online_is_not(client, desk):  # noqa: F811
    structure = desk[0]
    staff = member(structure)
    typed = resident_create(
        structure=structure, by=staff, first_name="Awa", last_name="Diallo", phone="+33611111111"
    )
    assert typed.phone_confirmed_at is not None
    book(client, desk, phone="06 22 22 22 22")
    online = Resident.objects.get(phone="+33622222222")
    assert online.phone_confirmed_at is None
    changed = resident_update(
        resident=typed, by=None, first_name="Awa", last_name="Diallo", phone="+33633333333"
    )
    assert changed.phone_confirmed_at is None
    checked = resident_update(
        resident=online, by=staff, first_name="Éric", last_name="Dupont", phone="+33622222222"
    )
    assert checked.phone_confirmed_at is not None


# --- Caps -------------------------------------------------------------------------------------


def test_past_the_cap_unconfirmed_numbers_get_no_sms_and_the_admins_are_told_once(
    client,
    desk,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SMS_CAP_PER_HOUR = 3
    settings.SMS_CAP_PER_DAY = 100
    structure = desk[0]
    admin = member(structure, Role.STRUCTURE_ADMIN, email="admin@mairie.example")
    staff = member(structure)
    confirmed = resident_create(
        structure=structure, by=staff, first_name="Awa", last_name="Diallo", phone="+33699999999"
    )
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            response = book(
                client,
                desk,
                phone=f"06 12 34 56 7{n}",
                email=f"r{n}@example.org",
                last_name=f"Robot{n}",
            )
        assert response.status_code == 302
    texted = [sms["to"] for sms in read_outbox()]
    assert len(texted) == 3
    # The others were told by e-mail only.
    sms_rows = Notification.objects.filter(channel=Channel.SMS)
    assert sms_rows.count() == 3
    residents_emails = [m for m in mail.outbox if m.to != [admin.email]]
    assert len(residents_emails) == 6
    # A number the desk typed is still texted.
    with django_capture_on_commit_callbacks(execute=True):
        book(client, desk, phone="06 99 99 99 99", first_name="Awa", last_name="Diallo")
    assert read_outbox()[0]["to"] == confirmed.phone.as_e164
    alerts = [m for m in mail.outbox if m.to == [admin.email]]
    assert len(alerts) == 1
    assert "plafond de SMS" in alerts[0].subject
    assert structure.name in alerts[0].body


def test_an_sms_recorded_before_the_cap_is_dropped_at_its_claim(
    desk,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SMS_CAP_PER_HOUR = 1
    structure, place, motif = desk
    admin = member(structure, Role.STRUCTURE_ADMIN, email="admin@mairie.example")
    staff = member(structure)
    resident_create(
        structure=structure, by=staff, first_name="Awa", last_name="Diallo", phone="+33699999999"
    )
    later = timezone.now() + timedelta(days=3)
    rows = []
    for phone in ("+33611111111", "+33622222222", "+33699999999"):
        rows.append(
            Notification.objects.create(
                structure=structure,
                waitlist_entry=WaitlistEntry.objects.create(
                    place=place, motif=motif, first_name="Léa", phone=phone
                ),
                kind="waitlist_offer",
                channel=Channel.SMS,
                recipient=phone,
                send_after=timezone.now(),
                send_before=later,
            )
        )
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [tasks.send_notification(row.pk) for row in rows]
    assert outcomes == ["sent", "dropped", "sent"]
    dropped = Notification.objects.get(pk=rows[1].pk)
    assert dropped.status == MessageStatus.DROPPED and dropped.last_error == OVER_CAP
    assert sorted(sms["to"] for sms in read_outbox()) == ["+33611111111", "+33699999999"]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_notification(
            Notification.objects.create(
                structure=structure,
                waitlist_entry=WaitlistEntry.objects.create(
                    place=place, motif=motif, first_name="Léo", phone="+33633333333"
                ),
                kind="waitlist_offer",
                channel=Channel.SMS,
                recipient="+33633333333",
                send_after=timezone.now(),
                send_before=later,
            ).pk
        )
    assert len([m for m in mail.outbox if m.to == [admin.email]]) == 1
