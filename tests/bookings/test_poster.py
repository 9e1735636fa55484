"""The structure's poster (PDF) for the desk and the town-hall noticeboard."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from bookings.poster import poster_pdf, public_booking_url
from mediation.choices import Role
from tests.bookings.factories import MotifFactory
from tests.conftest import member
from tests.factories import PlaceFactory, StructureFactory

pytestmark = pytest.mark.django_db


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in read(pdf).pages)


def test_poster_is_one_a4_page_with_the_name_the_booking_address_and_the_services(
    structure, place, settings
):
    settings.SITE_URL = "https://rdv.exemple.fr"
    MotifFactory(structure=structure, name="Démarches CAF et impôts")
    MotifFactory(structure=structure, name="Ancien motif", is_active=False)
    pdf = poster_pdf(structure)
    reader = read(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = text_of(pdf)
    assert "Mairie de Lohéac" in text
    assert "https://rdv.exemple.fr/rdv/mairie-loheac/" in text
    assert "médiateur·rice numérique" in text
    assert "Démarches CAF et impôts" in text and "Ancien motif" not in text
    assert "Salle du conseil" in text and "1 place de la Mairie, 35550 Lohéac" in text


def test_poster_shows_the_structure_phone_in_national_format(structure):
    structure.phone = "+33299123456"
    structure.save()
    assert "02 99 12 34 56" in text_of(poster_pdf(structure))


def test_poster_stays_on_one_page_with_many_long_services_and_places():
    structure = StructureFactory(
        name="Communauté de communes du Val d'Ille-Aubigné — Espace France Services itinérant",
        slug="cc-val-ille-aubigne-france-services-itinerant",
    )
    for index in range(12):
        MotifFactory(
            structure=structure,
            name=f"Motif {index} au nom assez long pour occuper toute une ligne de l'affiche",
        )
        PlaceFactory(structure=structure, name=f"Médiathèque {index}")
    pdf = poster_pdf(structure)
    assert len(read(pdf).pages) == 1
    text = text_of(pdf)
    assert public_booking_url(structure) in text
    assert "Motif 8" not in text  # at most 8 services, so that they stay readable


def test_poster_replaces_characters_the_standard_font_cannot_draw():
    structure = StructureFactory(name="Maison Ŝerviço 🙂", slug="maison")
    text = text_of(poster_pdf(structure))
    assert "Maison Serviço" in text


def test_poster_view_downloads_the_pdf(mediator_client, structure, place):
    response = mediator_client.get(reverse("booking_poster", kwargs={"structure": structure.slug}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="affiche-mairie-loheac.pdf"'
    assert "Mairie de Lohéac" in text_of(response.content)


def test_poster_of_another_structure_is_not_found(client):
    outsider = member(StructureFactory(), Role.STRUCTURE_ADMIN)
    other = StructureFactory(slug="ailleurs")
    client.force_login(outsider)
    assert client.get(reverse("booking_poster", kwargs={"structure": other.slug})).status_code == (
        404
    )
