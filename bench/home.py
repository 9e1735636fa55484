"""Landing pages as data grows: a network coordinator over N structures, each with places,
staff and residents. Prints the median time of the home page and the number of queries for
each size; the query count must not grow with N.

    .venv/bin/python bench/home.py            # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence .venv/bin/python bench/home.py
"""

from common import count_queries, finish, median_ms, setup_django

setup_django("home")

from django.test import Client  # noqa: E402

from mediation.choices import Role  # noqa: E402
from mediation.models import (  # noqa: E402
    Membership,
    Network,
    NetworkMembership,
    Place,
    Resident,
    Structure,
    User,
)


def build(network: Network, start: int, count: int, admin: User) -> None:
    structures = Structure.objects.bulk_create(
        Structure(name=f"Structure {i}", slug=f"s-{i}", kind="mairie")
        for i in range(start, start + count)
    )
    Link = Structure.networks.through
    Link.objects.bulk_create(Link(structure=s, network=network) for s in structures)
    Place.objects.bulk_create(
        Place(
            structure=s,
            name=f"Lieu {j}",
            address="1 rue",
            postcode="35000",
            commune="X",
            insee_code="35238",
        )
        for s in structures
        for j in range(3)
    )
    Resident.objects.bulk_create(
        Resident(structure=s, first_name="Prénom", last_name=f"Nom {j}")
        for s in structures
        for j in range(200)
    )
    Membership.objects.bulk_create(
        Membership(user=admin, structure=s, role=role)
        for s in structures
        for role in (Role.MEDIATOR, Role.STRUCTURE_ADMIN)
    )


def main() -> None:
    network = Network.objects.create(name="Réseau", slug="reseau")
    user = User.objects.create_user(
        email="bench@exemple.fr", password="x", first_name="B", last_name="B"
    )
    NetworkMembership.objects.create(user=user, network=network)
    client = Client()
    client.force_login(user)

    def home():
        response = client.get("/")
        assert response.status_code == 200

    built = 0
    figures = {}
    print(f"{'structures':>10} {'home_ms':>9} {'queries':>8}")
    for size in (10, 50, 200):
        build(network, built, size - built, user)
        built = size
        ms, queries = median_ms(home, repeat=9), count_queries(home)
        figures[size] = (ms, queries)
        print(f"{size:>10} {ms:>9.1f} {queries:>8}")
    small, large = figures[10], figures[200]
    finish(
        home_ms_10=small[0],
        home_ms_200=large[0],
        queries_10=small[1],
        queries_200=large[1],
        query_growth=large[1] - small[1],
    )


if __name__ == "__main__":
    main()
