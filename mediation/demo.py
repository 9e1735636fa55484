"""Demo data: three networks, five structures and their teams (see `manage.py seed_demo`). The
département network overlaps the two others: France Services de Guichen and the CCAS de Redon
each belong to two networks.

Later apps extend the demo by registering a function with `register_demo_step`: each step
receives the objects created here and must be idempotent. Their activity (residents,
appointments, sessions) is drawn by `cases/demo.py` from `cases/synthetic.py`."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from mediation.choices import (
    NetworkKind,
    PlaceAccess,
    PlaceFee,
    PlaceNationalProgramme,
    PlacePublic,
    PlaceService,
    PlaceSpecificSupport,
    PlaceSupportMode,
    Role,
    StructureKind,
)
from mediation.models import (
    Membership,
    Network,
    NetworkMembership,
    Place,
    Structure,
    User,
)

DEMO_PASSWORD = "permanence-demo"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    label: str


NETWORKS = [
    {
        "slug": "vallons-haute-bretagne",
        "name": "Vallons de Haute-Bretagne Communauté",
        "kind": NetworkKind.EPCI,
    },
    {
        "slug": "hub-inclusion-ccas-outre-mer",
        "name": "Hub inclusion numérique CCAS & Outre-mer",
        "kind": NetworkKind.HUB,
    },
    {
        "slug": "departement-ille-et-vilaine",
        "name": "Réseau départemental d'Ille-et-Vilaine",
        "kind": NetworkKind.DEPARTEMENT,
    },
]

#: What the demo places publish in the national places schema (each place may say more).
NATIONAL_SCHEMA_DEFAULTS = {
    "is_published": True,
    "services": [
        PlaceService.DEMARCHES,
        PlaceService.OUTILS_QUOTIDIEN,
        PlaceService.SECURITE,
    ],
    "support_modes": [PlaceSupportMode.INDIVIDUEL, PlaceSupportMode.ATELIER],
    "access_terms": [
        PlaceAccess.SE_PRESENTER,
        PlaceAccess.TELEPHONER,
        PlaceAccess.RDV_EN_LIGNE,
    ],
    "fees": [PlaceFee.GRATUIT],
}

STRUCTURES = [
    {
        "slug": "mairie-loheac",
        "name": "Mairie de Lohéac",
        "kind": StructureKind.MAIRIE,
        "networks": ["vallons-haute-bretagne"],
        "siret": "21350155000015",
        "email": "accueil@mairie-loheac.example",
        "places": [
            {
                "name": "Mairie de Lohéac — salle du conseil",
                "address": "2 place de l'Église",
                "postcode": "35550",
                "commune": "Lohéac",
                "insee_code": "35155",
                "is_rural": True,
                "accessibility": "Plain-pied, accès PMR par la rampe côté parking.",
                **NATIONAL_SCHEMA_DEFAULTS,
                "latitude": Decimal("47.870100"),
                "longitude": Decimal("-1.885800"),
                "summary": "Permanence numérique en mairie : démarches en ligne, courriels, "
                "prise en main du smartphone.",
            },
        ],
    },
    {
        "slug": "france-services-guichen",
        "name": "France Services de Guichen",
        "kind": StructureKind.FRANCE_SERVICES,
        "networks": ["vallons-haute-bretagne", "departement-ille-et-vilaine"],
        "siret": "21350126700024",
        "email": "franceservices@guichen.example",
        "places": [
            {
                "name": "France Services de Guichen",
                "address": "5 rue de l'Aumônerie",
                "postcode": "35580",
                "commune": "Guichen",
                "insee_code": "35126",
                "accessibility": "Accès PMR, boucle magnétique à l'accueil.",
                **NATIONAL_SCHEMA_DEFAULTS,
                "latitude": Decimal("47.966300"),
                "longitude": Decimal("-1.794900"),
                "emails": "franceservices@guichen.example",
                "website": "https://www.guichen.example/france-services",
                "national_programmes": [
                    PlaceNationalProgramme.FRANCE_SERVICES,
                    PlaceNationalProgramme.CONSEILLERS_NUMERIQUES,
                    PlaceNationalProgramme.AIDANTS_CONNECT,
                ],
            },
            {
                "name": "Antenne de Bourg-des-Comptes",
                "address": "1 rue de la Mairie",
                "postcode": "35890",
                "commune": "Bourg-des-Comptes",
                "insee_code": "35033",
                "is_rural": True,
                "accessibility": "Premier étage, ascenseur.",
            },
        ],
    },
    {
        "slug": "mediatheque-grand-clos",
        "name": "Médiathèque Le Grand Clos — EPN",
        "kind": StructureKind.MEDIATHEQUE,
        "networks": ["vallons-haute-bretagne"],
        "siret": "21350126700040",
        "email": "epn@grandclos.example",
        "places": [
            {
                "name": "Espace public numérique du Grand Clos",
                "address": "12 avenue du Général de Gaulle",
                "postcode": "35580",
                "commune": "Guichen",
                "insee_code": "35126",
                "accessibility": "Plain-pied. Ordinateurs avec grand écran et clavier adapté.",
                **NATIONAL_SCHEMA_DEFAULTS,
                "latitude": Decimal("47.964800"),
                "longitude": Decimal("-1.799200"),
                "services": [
                    PlaceService.OUTILS_QUOTIDIEN,
                    PlaceService.LOISIRS,
                    PlaceService.ACCES_MATERIEL,
                    PlaceService.SECURITE,
                ],
                "support_modes": [
                    PlaceSupportMode.AUTONOMIE,
                    PlaceSupportMode.INDIVIDUEL,
                    PlaceSupportMode.ATELIER,
                ],
                "publics": [PlacePublic.SENIORS, PlacePublic.FAMILLES],
                "specific_support": [PlaceSpecificSupport.DEFICIENCE_VISUELLE],
            },
        ],
    },
    {
        "slug": "ccas-redon",
        "name": "CCAS de Redon — pôle inclusion",
        "kind": StructureKind.CCAS,
        "networks": ["hub-inclusion-ccas-outre-mer", "departement-ille-et-vilaine"],
        "siret": "21350236000018",
        "email": "ccas@redon.example",
        "places": [
            {
                "name": "CCAS de Redon",
                "address": "8 rue Joseph Lamour de Caslou",
                "postcode": "35600",
                "commune": "Redon",
                "insee_code": "35236",
                "is_qpv": True,
                "accessibility": "Accès PMR par l'entrée latérale.",
                **NATIONAL_SCHEMA_DEFAULTS,
                "latitude": Decimal("47.651400"),
                "longitude": Decimal("-2.084300"),
                "fees": [PlaceFee.GRATUIT],
                "access_terms": [PlaceAccess.TELEPHONER, PlaceAccess.PRESCRIPTION],
            },
        ],
    },
    {
        "slug": "kaz-numerik-saint-pierre",
        "name": "Kaz Numérik — Saint-Pierre",
        "kind": StructureKind.ASSOCIATION,
        "networks": ["hub-inclusion-ccas-outre-mer"],
        "rna": "W9R4001234",
        "email": "contact@kaznumerik.example",
        # Shows the per-structure setting: here mediators too sign in with a code.
        "mediators_need_two_factor": True,
        "places": [
            {
                "name": "Kaz Numérik — Ravine Blanche",
                "address": "17 rue Marius et Ary Leblond",
                "postcode": "97410",
                "commune": "Saint-Pierre",
                "insee_code": "97416",
                "time_zone": "Indian/Reunion",
                "is_qpv": True,
                "accessibility": "Rez-de-chaussée, accès PMR.",
                **NATIONAL_SCHEMA_DEFAULTS,
                "latitude": Decimal("-21.339300"),
                "longitude": Decimal("55.478100"),
                "is_roaming": True,
                "summary": "Un camion numérique et une permanence à Ravine Blanche.",
            },
        ],
    },
]

# (email, first name, last name, [(structure slug, role)], [network slugs coordinated])
STAFF = [
    (
        "mediatrice@permanence.demo",
        "Camille",
        "Le Goff",
        [("mairie-loheac", Role.MEDIATOR), ("france-services-guichen", Role.MEDIATOR)],
        [],
    ),
    ("yann.riou@permanence.demo", "Yann", "Riou", [("france-services-guichen", Role.MEDIATOR)], []),
    (
        "ines.benali@permanence.demo",
        "Inès",
        "Benali",
        [("france-services-guichen", Role.MEDIATOR)],
        [],
    ),
    (
        "lucas.morvan@permanence.demo",
        "Lucas",
        "Morvan",
        [("mediatheque-grand-clos", Role.MEDIATOR)],
        [],
    ),
    (
        "chloe.tanguy@permanence.demo",
        "Chloé",
        "Tanguy",
        [("mediatheque-grand-clos", Role.MEDIATOR)],
        [],
    ),
    ("nadia.haddad@permanence.demo", "Nadia", "Haddad", [("ccas-redon", Role.MEDIATOR)], []),
    (
        "jean-marc.payet@permanence.demo",
        "Jean-Marc",
        "Payet",
        [("kaz-numerik-saint-pierre", Role.MEDIATOR)],
        [],
    ),
    (
        "sandrine.hoarau@permanence.demo",
        "Sandrine",
        "Hoarau",
        [("kaz-numerik-saint-pierre", Role.MEDIATOR)],
        [],
    ),
    ("coordinatrice@permanence.demo", "Sophie", "Martin", [], ["vallons-haute-bretagne"]),
    ("coordinateur.hub@permanence.demo", "Thomas", "Grondin", [], ["hub-inclusion-ccas-outre-mer"]),
    (
        "coordinatrice.departement@permanence.demo",
        "Anne",
        "Le Floch",
        [],
        ["departement-ille-et-vilaine"],
    ),
    (
        "admin@permanence.demo",
        "Hélène",
        "Robin",
        [("france-services-guichen", Role.STRUCTURE_ADMIN)],
        [],
    ),
]

DEMO_ACCOUNTS = [
    DemoAccount(
        "mediatrice@permanence.demo",
        "Camille",
        "Le Goff",
        "médiatrice (Mairie de Lohéac et France Services de Guichen)",
    ),
    DemoAccount(
        "coordinatrice@permanence.demo",
        "Sophie",
        "Martin",
        "coordinatrice du réseau Vallons de Haute-Bretagne",
    ),
    DemoAccount(
        "admin@permanence.demo", "Hélène", "Robin", "administratrice de France Services de Guichen"
    ),
    DemoAccount(
        "jean-marc.payet@permanence.demo",
        "Jean-Marc",
        "Payet",
        "médiateur à Saint-Pierre (La Réunion)",
    ),
    DemoAccount(
        "coordinateur.hub@permanence.demo",
        "Thomas",
        "Grondin",
        "coordinateur du hub CCAS & Outre-mer",
    ),
    DemoAccount(
        "coordinatrice.departement@permanence.demo",
        "Anne",
        "Le Floch",
        "coordinatrice du réseau départemental d'Ille-et-Vilaine "
        "(France Services de Guichen et CCAS de Redon)",
    ),
]
OPERATOR_EMAIL = "operateur@permanence.demo"
DEMO_EMAILS = frozenset([*(staff[0] for staff in STAFF), OPERATOR_EMAIL])


def demo_totp_secret(email: str) -> str:
    """The fixed TOTP secret (base32) of a demo account: printed by `make run`, typed into an
    authenticator app, or read by `manage.py demo_totp` to print the current code. Public by
    design: demo accounts only. 160 bits (20 bytes, 32 base32 characters), like the keys
    django-otp draws (`random_hex(20)`): standard tools refuse the shorter 80-bit secrets."""
    digest = hashlib.sha256(f"permanence-demo-totp:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def _legacy_demo_totp_key(email: str) -> str:
    """The 80-bit key demo accounts had before (hex): a base seeded then is upgraded."""
    digest = hashlib.sha256(f"permanence-demo-totp:{email}".encode()).digest()
    return digest[:10].hex()


def demo_totp_uri(user: User) -> str | None:
    """The `otpauth://` link of a demo account's app (what its QR code would hold), or None."""
    device = demo_totp_device(user)
    return device.config_url if device is not None else None


def _demo_second_factor(user: User) -> None:
    """A demo account that must use a second factor gets an app with its fixed secret (and no
    other), so that the demo logins printed by `make run` keep working."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mediation.two_factor import TOTP_DEVICE_NAME, forget_two_factor_state, two_factor_state

    forget_two_factor_state(user)
    if not two_factor_state(user).required:
        return
    key = base64.b32decode(demo_totp_secret(user.email)).hex()
    TOTPDevice.objects.filter(user=user).exclude(key=key, confirmed=True).delete()
    TOTPDevice.objects.get_or_create(
        user=user, key=key, confirmed=True, defaults={"name": TOTP_DEVICE_NAME}
    )
    forget_two_factor_state(user)


def give_demo_accounts_their_second_factor() -> None:
    """Demo accounts that must use a second factor and have none get their fixed app; one that
    still has the former 80-bit demo key gets the 160-bit one instead."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mediation.two_factor import two_factor_state

    for user in User.objects.filter(email__in=DEMO_EMAILS):
        state = two_factor_state(user)
        legacy = TOTPDevice.objects.filter(
            user=user, key=_legacy_demo_totp_key(user.email), confirmed=True
        ).exists()
        if state.required and (not state.enabled or legacy):
            _demo_second_factor(user)


def demo_totp_device(user: User):
    """The demo app of a demo account, if it still has its fixed secret."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.email not in DEMO_EMAILS:
        return None
    key = base64.b32decode(demo_totp_secret(user.email)).hex()
    return TOTPDevice.objects.filter(user=user, key=key, confirmed=True).first()


def demo_current_code(user: User) -> str | None:
    """The code a demo account's app shows now (None for any other account)."""
    from django_otp.oath import TOTP

    device = demo_totp_device(user)
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


_steps: list[Callable[[dict], None]] = []


def register_demo_step(step: Callable[[dict], None]) -> Callable[[dict], None]:
    _steps.append(step)
    return step


@transaction.atomic
def seed_demo(*, residents_per_structure: int = 30) -> dict:
    """Create (or bring back to its reference state) the demo data. Idempotent.
    `residents_per_structure`: named residents of a structure, before those its year of
    activity adds (the activity step reads it from the context)."""
    networks = {}
    for data in NETWORKS:
        networks[data["slug"]], _ = Network.objects.update_or_create(
            slug=data["slug"], defaults={"name": data["name"], "kind": data["kind"]}
        )
    structures: dict[str, Structure] = {}
    places: dict[str, list[Place]] = {}
    for data in STRUCTURES:
        structure, _ = Structure.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "kind": data["kind"],
                "siret": data.get("siret", ""),
                "rna": data.get("rna", ""),
                "email": data.get("email", ""),
                "mediators_need_two_factor": data.get("mediators_need_two_factor", False),
            },
        )
        structure.networks.set([networks[slug] for slug in data["networks"]])
        structures[structure.slug] = structure
        places[structure.slug] = []
        for place_data in data["places"]:
            place, _ = Place.objects.update_or_create(
                structure=structure,
                name=place_data["name"],
                defaults={k: v for k, v in place_data.items() if k != "name"},
            )
            places[structure.slug].append(place)

    users: dict[str, User] = {}
    for email, first_name, last_name, memberships, coordinated in STAFF:
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first_name, "last_name": last_name}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[email] = user
        for slug, role in memberships:
            Membership.objects.get_or_create(user=user, structure=structures[slug], role=role)
        for slug in coordinated:
            NetworkMembership.objects.get_or_create(user=user, network=networks[slug])
    operator, created = User.objects.get_or_create(
        email=OPERATOR_EMAIL,
        defaults={
            "first_name": "Opérateur",
            "last_name": "Plateforme",
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        operator.set_password(DEMO_PASSWORD)
        operator.save()

    for user in [*users.values(), operator]:
        _demo_second_factor(user)

    context = {
        "networks": networks,
        "structures": structures,
        "places": places,
        "users": users,
        "residents_per_structure": residents_per_structure,
    }
    for step in _steps:
        step(context)
    return context
