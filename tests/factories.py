import factory
from factory.django import DjangoModelFactory

from mediation.choices import Role, StructureKind
from mediation.models import (
    Membership,
    Network,
    NetworkMembership,
    Place,
    Resident,
    Structure,
    User,
)

DEFAULT_PASSWORD = "mot-de-passe-de-test-42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class NetworkFactory(DjangoModelFactory):
    class Meta:
        model = Network

    name = factory.Sequence(lambda n: f"Réseau {n}")
    slug = factory.Sequence(lambda n: f"reseau-{n}")


class StructureFactory(DjangoModelFactory):
    class Meta:
        model = Structure
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Structure {n}")
    slug = factory.Sequence(lambda n: f"structure-{n}")
    kind = StructureKind.MAIRIE

    @factory.post_generation
    def networks(self, create, extracted, **kwargs):
        """`StructureFactory(networks=[a, b])`: the structure belongs to those networks."""
        if create and extracted:
            self.networks.set(extracted)


class PlaceFactory(DjangoModelFactory):
    class Meta:
        model = Place

    structure = factory.SubFactory(StructureFactory)
    name = factory.Sequence(lambda n: f"Lieu {n}")
    address = "1 place de la Mairie"
    postcode = "35550"
    commune = "Lohéac"
    insee_code = "35155"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = Role.MEDIATOR


class NetworkMembershipFactory(DjangoModelFactory):
    class Meta:
        model = NetworkMembership

    user = factory.SubFactory(UserFactory)
    network = factory.SubFactory(NetworkFactory)


class ResidentFactory(DjangoModelFactory):
    class Meta:
        model = Resident

    structure = factory.SubFactory(StructureFactory)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
