from __future__ import annotations

import re
import unicodedata
import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from mediation.choices import (
    AgeBand,
    FeedDetail,
    Gender,
    NetworkKind,
    PlaceAccess,
    PlaceFee,
    PlaceNationalProgramme,
    PlacePublic,
    PlaceService,
    PlaceSpecificSupport,
    PlaceSupportMode,
    PlaceTimeZone,
    ResidentStatus,
    Role,
    StructureKind,
)
from mediation.fields import ChoiceListField, validate_email_list
from mediation.permissions import roles_for
from mediation.phones import calling_codes_display, french_calling_codes
from mediation.report_keys import report_key_field
from mediation.scoping import ScopedQuerySet, scoped_queryset, visible_structure_ids
from mediation.territories import territory_of

insee_validator = RegexValidator(
    r"^(\d{5}|2[AB]\d{3})$", _("Le code INSEE compte 5 caractères (ex. 35238, 2A004).")
)
postcode_validator = RegexValidator(r"^\d{5}$", _("Le code postal compte 5 chiffres."))
rna_validator = RegexValidator(
    r"^W[0-9A-Z]{9}$",
    _("Le numéro RNA commence par W, suivi de 9 chiffres ou lettres (ex. W353001234)."),
)
ridet_validator = RegexValidator(
    r"^[0-9A-Za-z]{9,14}$",
    _("Le RIDET compte 9 à 14 chiffres ou lettres, sans espace ni point (ex. 1234567001)."),
)
#: Telephone numbers the national places schema accepts: France, its overseas departments and
#: collectivities (`telephone`: one of these prefixes, then 6 to 9 digits).
NATIONAL_PHONE_PREFIXES = (
    "+33",  # métropole
    "+590",  # Guadeloupe, Saint-Barthélemy, Saint-Martin
    "+594",  # Guyane
    "+262",  # La Réunion, Mayotte
    "+596",  # Martinique
    "+269",  # Mayotte (former prefix)
    "+687",  # Nouvelle-Calédonie
    "+689",  # Polynésie française
    "+508",  # Saint-Pierre-et-Miquelon
    "+681",  # Wallis-et-Futuna
)
NATIONAL_PHONE = re.compile(
    r"^(" + "|".join(re.escape(prefix) for prefix in NATIONAL_PHONE_PREFIXES) + r")\d{6,9}$"
)


def validate_siret(value: str) -> None:
    if not value.isdigit() or len(value) != 14:
        raise ValidationError(_("Le SIRET compte 14 chiffres."))
    total = 0
    for index, char in enumerate(reversed(value)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    # La Poste's establishments use another rule; accept them as the registry does.
    if total % 10 and not value.startswith("356000000"):
        raise ValidationError(_("Ce numéro SIRET n'est pas valide (clé de contrôle)."))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        # Addresses are stored trimmed and lowercase (User.clean, membership_invite); the
        # login form lowercases what is typed, iexact also covers an older mixed-case row.
        return self.get(email__iexact=(username or "").strip())


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member (mediator, coordinator, structure admin) or a platform operator.

    Residents never have an account."""

    # The stable identifier the national tools know a mediator by (API `mediateur_id`).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    phone = PhoneNumberField(_("téléphone professionnel"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(
        _("accès à l'administration de la plateforme"),
        default=False,
        help_text=_("Réservé aux opérateurs de la plateforme."),
    )
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login", "uuid"])

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("utilisateur·rice")
        verbose_name_plural = _("utilisateur·rices")
        ordering = ["last_name", "first_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = (self.email or "").strip().lower()

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class NetworkQuerySet(ScopedQuerySet):
    def visible_to(self, user, action=None):
        # A network is visible through any of its structures. Read from the link table in a
        # subquery (no join on the networks): a network of two visible structures comes once.
        ids = visible_structure_ids(user, action)
        links = Structure.networks.through.objects.filter(structure_id__in=ids)
        return self.filter(pk__in=links.values("network_id"))


class NetworkMembershipQuerySet(ScopedQuerySet):
    def visible_to(self, user, action=None):
        return self.filter(network__in=Network.objects.visible_to(user, action))


class Network(models.Model):
    """Réseau / territoire: a group of structures that a coordinator oversees."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    kind = models.CharField(
        _("type"), max_length=20, choices=NetworkKind.choices, default=NetworkKind.EPCI
    )

    objects = NetworkQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("réseau")
        verbose_name_plural = _("réseaux")
        ordering = ["name"]

    def __str__(self):
        return self.name


class StructureQuerySet(scoped_queryset("")):
    def in_network(self, network):
        """The structures linked to `network` (each once: a link is unique)."""
        return self.filter(networks=network)

    def sharing_a_network_with(self, structure_ids):
        """The structures that share at least one network with one of `structure_ids` (those
        included when they belong to a network). Meant as a subquery (`pk__in=`): it may
        name a structure twice."""
        links = Structure.networks.through.objects.filter(structure_id__in=structure_ids)
        return self.filter(networks__in=links.values("network_id"))


class StructureHistory(HistoricalRecords):
    """Structure's history, with its networks. simple-history records a change of the links
    made from the structure's side (`structure.networks.add(…)`), but fails on one made from
    the network's side (`network.structures.add(…)`, django-simple-history issue #1048): that
    side is turned into a record of each structure concerned."""

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        if action == "pre_clear":
            instance._history_cleared_structures = list(instance.structures.all())
            return None
        if action == "post_clear":
            structures = getattr(instance, "_history_cleared_structures", [])
        elif action in ("post_add", "post_remove"):
            structures = Structure.objects.filter(pk__in=pk_set)
        else:
            return None
        for structure in structures:
            super().m2m_changed(structure, action, attr, None, False, **kwargs)
        return None


class Structure(models.Model):
    """The organisation that runs desks (mairie, France Services, médiathèque…).

    It may belong to several networks (an intercommunality and a département hub): each gives
    its coordinators the coordinator role here, and residents who agreed to be shared are
    seen by the desks of every structure sharing a network with theirs."""

    # The stable identifier the national tools know it by (API `structure_id`).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    networks = models.ManyToManyField(
        Network, verbose_name=_("réseaux"), blank=True, related_name="structures"
    )
    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(
        _("identifiant"),
        max_length=80,
        unique=True,
        help_text=_("Utilisé dans l'adresse de la page de prise de rendez-vous."),
    )
    kind = models.CharField(_("type"), max_length=20, choices=StructureKind.choices)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    rna = models.CharField(
        _("numéro RNA"),
        max_length=10,
        blank=True,
        validators=[rna_validator],
        help_text=_("Pour une association sans SIRET (Répertoire national des associations)."),
    )
    ridet = models.CharField(
        _("RIDET"),
        max_length=14,
        blank=True,
        validators=[ridet_validator],
        help_text=_("En Nouvelle-Calédonie et en Polynésie française, à la place du SIRET."),
    )
    email = models.EmailField(_("e-mail de contact"), blank=True)
    phone = PhoneNumberField(_("téléphone de contact"), blank=True)
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("annulation en ligne possible jusqu'à (heures avant)"),
        default=4,
        validators=[MaxValueValidator(168)],
    )
    reminder_hours_before = models.PositiveSmallIntegerField(
        _("rappel envoyé (heures avant le rendez-vous)"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    booking_published = models.BooleanField(
        _("réservation en ligne publiée"),
        default=True,
        help_text=_(
            "Tant qu'elle ne l'est pas (brouillon), la page publique l'indique aux usagers "
            "et ne propose ni ne prend aucun rendez-vous."
        ),
    )
    feed_detail = models.CharField(
        _("usagers dans l'agenda sur téléphone des médiateur·rices"),
        max_length=20,
        choices=FeedDetail.choices,
        default=FeedDetail.INITIALS,
        help_text=_("Jamais le numéro de téléphone ni le besoin exprimé."),
    )
    mediators_need_two_factor = models.BooleanField(
        _("double authentification exigée des médiateur·rices"),
        default=False,
        help_text=_("Elle l'est toujours pour les coordinateur·rices et les administrateur·rices."),
    )
    api_shares_precisions = models.BooleanField(
        _("partager les précisions des démarches par l'API"),
        default=False,
        help_text=_(
            "Les précisions sont du texte libre, qui peut contenir un nom : elles ne sortent par "
            "l'API que si la structure le décide."
        ),
    )
    online_phone_codes = models.JSONField(
        _("indicatifs téléphoniques acceptés en ligne"),
        default=french_calling_codes,
        help_text=_(
            "Les numéros que les usagers peuvent donner pour prendre rendez-vous ou s'inscrire "
            "en liste d'attente en ligne. Par défaut ceux de la France, métropole et outre-mer."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StructureQuerySet.as_manager()
    history = StructureHistory(m2m_fields=[networks], excluded_fields=["uuid"])

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("structure_home", kwargs={"structure": self.slug})

    @property
    def pivot(self) -> str:
        """The structure's identifier in the national registers, as the national places schema
        calls it: its SIRET, else its RNA number, else its RIDET ("" for none)."""
        return self.siret or self.rna or self.ridet

    def clean(self):
        super().clean()
        if self.pk and not self.pivot and self.places.filter(is_published=True).exists():
            raise ValidationError(
                {
                    "siret": _(
                        "Des lieux de la structure sont publiés en données ouvertes : gardez son "
                        "SIRET (ou son numéro RNA, ou son RIDET), ou retirez-les d'abord de la "
                        "publication."
                    )
                }
            )

    @property
    def online_phone_codes_display(self) -> str:
        """ "+33 +262 …": the countries whose numbers its public pages accept."""
        return calling_codes_display(self.online_phone_codes or [])

    @property
    def networks_display(self) -> str:
        """Its networks' names, comma-separated ("" for none). Prefetch `networks` when
        listing structures: this reads `networks.all()`."""
        return ", ".join(network.name for network in self.networks.all())

    def shares_a_network_with(self, other: Structure | int) -> bool:
        """Whether the two structures (`other` or its id) belong to at least one common
        network (one query)."""
        other_id = other if isinstance(other, int) else other.pk
        return (
            Structure.objects.filter(pk=other_id)
            .filter(pk__in=Structure.objects.sharing_a_network_with([self.pk]).values("pk"))
            .exists()
        )


class Place(models.Model):
    """Lieu: where help happens."""

    # The stable identifier the national tools know it by (API `lieux-activite`).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(
        Structure, verbose_name=_("structure"), on_delete=models.CASCADE, related_name="places"
    )
    name = models.CharField(_("nom du lieu"), max_length=200)
    address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(_("code postal"), max_length=5, validators=[postcode_validator])
    commune = models.CharField(_("commune"), max_length=120)
    insee_code = models.CharField(
        _("code INSEE de la commune"), max_length=5, validators=[insee_validator]
    )
    time_zone = models.CharField(
        _("fuseau horaire"),
        max_length=40,
        choices=PlaceTimeZone.choices,
        default=PlaceTimeZone.PARIS,
    )
    accessibility = models.TextField(
        _("accessibilité"),
        blank=True,
        help_text=_("Accès PMR, étage, boucle magnétique, stationnement…"),
    )
    phone = PhoneNumberField(_("téléphone du lieu"), blank=True)
    is_qpv = models.BooleanField(_("en quartier prioritaire (QPV)"), default=False)
    is_rural = models.BooleanField(
        _("en zone France Ruralités Revitalisation (FRR)"), default=False
    )
    is_active = models.BooleanField(_("actif"), default=True)
    # What the national places schema ("lieux de médiation numérique") asks for, published in
    # the open-data files (bookings/national_places.py) when `is_published`.
    address_complement = models.CharField(
        _("complément d'adresse"),
        max_length=255,
        blank=True,
        help_text=_("Bâtiment, étage, lieu-dit… ce qui aide à trouver l'entrée."),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(-90, _("La latitude est comprise entre -90 et 90.")),
            MaxValueValidator(90, _("La latitude est comprise entre -90 et 90.")),
        ],
        help_text=_("En degrés décimaux (WGS 84), ex. 47.9560 : voir adresse.data.gouv.fr."),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(-180, _("La longitude est comprise entre -180 et 180.")),
            MaxValueValidator(180, _("La longitude est comprise entre -180 et 180.")),
        ],
        help_text=_("En degrés décimaux (WGS 84), ex. -1.8745."),
    )
    emails = models.CharField(
        _("e-mails de contact du lieu"),
        max_length=500,
        blank=True,
        validators=[validate_email_list],
        help_text=_("Une ou plusieurs adresses génériques, séparées par des virgules."),
    )
    website = models.URLField(_("site web"), blank=True)
    services = ChoiceListField(
        _("services proposés"),
        choice_list=PlaceService,
        help_text=_("Liste de la cartographie nationale : au moins un pour publier le lieu."),
    )
    publics = ChoiceListField(
        _("publics spécifiquement accueillis"),
        choice_list=PlacePublic,
        help_text=_("Aucun si le lieu accueille tout public."),
    )
    specific_support = ChoiceListField(
        _("prise en charge spécifique"), choice_list=PlaceSpecificSupport
    )
    fees = ChoiceListField(_("frais à charge"), choice_list=PlaceFee)
    national_programmes = ChoiceListField(
        _("dispositifs et programmes nationaux"), choice_list=PlaceNationalProgramme
    )
    access_terms = ChoiceListField(_("modalités d'accès"), choice_list=PlaceAccess)
    support_modes = ChoiceListField(_("modalités d'accompagnement"), choice_list=PlaceSupportMode)
    is_roaming = models.BooleanField(
        _("lieu itinérant"),
        default=False,
        help_text=_("Bus numérique, permanence mobile : le lieu se déplace."),
    )
    summary = models.CharField(
        _("présentation courte"),
        max_length=280,
        blank=True,
        help_text=_("280 caractères au plus, affichés sur la cartographie nationale."),
    )
    description = models.TextField(_("présentation détaillée"), blank=True)
    acceslibre_url = models.URLField(
        _("fiche Acceslibre"),
        blank=True,
        help_text=_("Adresse de la fiche d'accessibilité du lieu sur acceslibre.beta.gouv.fr."),
    )
    is_published = models.BooleanField(
        _("publier ce lieu en données ouvertes"),
        default=False,
        help_text=_(
            "Le lieu figure alors dans les fichiers publics des lieux de médiation numérique "
            "(schéma national, repris par la cartographie nationale) : adresse, contacts, "
            "services, horaires et lien de prise de rendez-vous. Aucune donnée d'usager."
        ),
    )

    objects = scoped_queryset("structure").as_manager()
    history = HistoricalRecords(excluded_fields=["uuid"])

    class Meta:
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        ordering = ["structure__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "name"], name="place_name_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.commune})"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def clean(self):
        super().clean()
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            errors[missing] = _("Donnez la latitude et la longitude, ou aucune des deux.")
        if self.insee_code and self.time_zone:
            territory = territory_of(self.insee_code)
            if self.time_zone not in territory.time_zones:
                errors["time_zone"] = _(
                    "Ce fuseau horaire n'est pas celui de la commune (%(territory)s : %(zones)s)."
                ) % {
                    "territory": territory.name,
                    "zones": ", ".join(str(PlaceTimeZone(z).label) for z in territory.time_zones),
                }
        if self.is_published:
            if not self.services:
                errors["services"] = _("Choisissez au moins un service pour publier le lieu.")
            if self.structure_id and not self.structure.pivot:
                errors["is_published"] = _(
                    "Pour publier le lieu, renseignez d'abord le SIRET de la structure (ou son "
                    "numéro RNA, ou son RIDET) dans ses informations."
                )
            if self.phone and not NATIONAL_PHONE.match(str(self.phone)):
                errors["phone"] = _(
                    "Pour publier le lieu, donnez un numéro de France (métropole ou outre-mer)."
                )
        if errors:
            raise ValidationError(errors)


class MembershipQuerySet(scoped_queryset("structure")):
    def allowing(self, action: str):
        """Memberships whose role allows `action` (mediation/permissions.py), of active users:
        `Membership.objects.allowing("take_appointments").filter(structure=…)`."""
        return self.filter(role__in=roles_for(action), user__is_active=True)


class Membership(models.Model):
    """A user's role in a structure. A user may hold several roles in several structures."""

    user = models.ForeignKey(
        User, verbose_name=_("personne"), on_delete=models.CASCADE, related_name="memberships"
    )
    structure = models.ForeignKey(
        Structure, verbose_name=_("structure"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rôle dans une structure")
        verbose_name_plural = _("rôles dans les structures")
        ordering = ["structure__name", "user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "structure", "role"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.structure}"


class NetworkMembership(models.Model):
    """A coordinator of a whole network: sees every structure of it."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="network_memberships",
        verbose_name=_("personne"),
    )
    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("réseau")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NetworkMembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("coordination de réseau")
        verbose_name_plural = _("coordinations de réseau")
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="network_membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} — {self.network}"


def fold_name(*parts: str) -> str:
    """Lower case, no accents, single spaces: "Éric  LE-GOFF" → "eric le goff"."""
    text = " ".join(part for part in parts if part)
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    for separator in "-'’.":
        folded = folded.replace(separator, " ")
    return " ".join(folded.split())


class ResidentQuerySet(scoped_queryset("structure")):
    def visible_to(self, user, action=None):
        """Residents of the user's structures where they may `manage_residents` (or `action`:
        coordinators work on anonymised figures only), plus those of the structures sharing
        at least one network with one of them who agreed to be shared
        (`shared_with_network`)."""
        ids = visible_structure_ids(user, action or "manage_residents")
        return self.filter(models.Q(structure_id__in=ids) | self._shared_with_any_of(ids))

    def at_desk_of(self, structure: Structure):
        """Residents a desk of `structure` works with: its own, and those of the structures
        sharing at least one network with it who agreed to be shared. (Combine with
        `visible_to(user)`: this says nothing about the user.)"""
        return self.filter(models.Q(structure=structure) | self._shared_with_any_of([structure.pk]))

    @staticmethod
    def _shared_with_any_of(structure_ids) -> models.Q:
        # One subquery, whatever the number of networks: no join that would repeat a resident.
        neighbours = Structure.objects.sharing_a_network_with(structure_ids).values("pk")
        return models.Q(shared_with_network=True, structure_id__in=neighbours)

    def matching_name(self, text: str):
        """Residents whose name contains every word of `text`, accents and case ignored."""
        if "\x00" in text:
            # No name holds a NUL byte, and PostgreSQL refuses one in a query (500).
            return self.none()
        queryset = self
        for word in fold_name(text).split():
            queryset = queryset.filter(search_name__contains=word)
        return queryset

    def exact_last_name_first(self, text: str):
        """Ordered by name, those whose last name *is* a word of `text` (or all of it: "le
        goff") before those whose last name only contains it: "Hamon" before "Guérin-Hamon".

        No folded last name is stored, only `search_name` = fold(first name, last name).
        Folding keeps the length of a name (accents dropped, hyphens turned to spaces), so the
        last name is exactly the folded word `w` when `search_name` ends with " w" (or is `w`)
        and the last name has the length of `w`: in the database, on SQLite and PostgreSQL."""
        folded = fold_name(text)
        candidates = {folded, *folded.split()} - {""}
        if not candidates:
            return self.order_by("last_name", "first_name", "pk")
        exact = models.Q()
        for word in candidates:
            exact |= models.Q(search_name__endswith=f" {word}", last_name_length=len(word))
            exact |= models.Q(search_name=word, last_name_length=len(word))
        return (
            self.annotate(last_name_length=Length("last_name"))
            .annotate(
                exact_last_name=models.Case(
                    models.When(exact, then=models.Value(0)), default=models.Value(1)
                )
            )
            .order_by("exact_last_name", "last_name", "first_name", "pk")
        )

    def followed(self):
        return self.filter(is_anonymous=False)


class Resident(models.Model):
    """The person helped (usager). Minimum data only: see DOMAIN.md.

    An anonymous resident keeps no identity, only the statistics fields."""

    structure = models.ForeignKey(
        Structure, verbose_name=_("structure"), on_delete=models.PROTECT, related_name="residents"
    )
    is_anonymous = models.BooleanField(_("anonyme"), default=False)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    last_name = models.CharField(_("nom (ou initiales)"), max_length=100, blank=True)
    phone = PhoneNumberField(_("téléphone"), blank=True)
    # When a member of staff last typed or checked `phone` (resident_create / resident_update
    # with an author); None for a number only given online. Past the structure's SMS caps,
    # only confirmed numbers are still texted (bookings/sms_caps.py).
    phone_confirmed_at = models.DateTimeField(
        _("téléphone confirmé par l'accueil le"), null=True, blank=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("année de naissance"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    age_band = models.CharField(
        _("tranche d'âge"), max_length=10, choices=AgeBand.choices, default=AgeBand.NOT_GIVEN
    )
    commune_insee = models.CharField(
        _("commune de résidence (code INSEE)"),
        max_length=5,
        blank=True,
        validators=[insee_validator],
    )
    gender = models.CharField(
        _("genre"), max_length=10, choices=Gender.choices, default=Gender.NOT_GIVEN
    )
    status = models.CharField(
        _("situation"),
        max_length=12,
        choices=ResidentStatus.choices,
        default=ResidentStatus.NOT_GIVEN,
    )
    shared_with_network = models.BooleanField(
        _("accepte le partage avec le réseau"),
        default=False,
        help_text=_("L'usager a accepté que les autres structures du réseau voient sa fiche."),
    )
    # fold_name(first_name, last_name), kept by save(): accent-blind search in the database.
    search_name = models.CharField(max_length=210, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    last_contact_at = models.DateTimeField(_("dernier contact"), default=timezone.now)
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True)
    report_key = report_key_field()

    objects = ResidentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["report_key"])

    class Meta:
        verbose_name = _("usager")
        verbose_name_plural = _("usagers")
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["structure", "last_name", "first_name"]),
            models.Index(fields=["last_contact_at"]),
            models.Index(fields=["structure", "phone"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_anonymous=True)
                | ~models.Q(first_name="")
                | ~models.Q(last_name=""),
                name="resident_followed_has_name",
            ),
        ]

    def __str__(self):
        if self.is_anonymous:
            return str(_("Usager anonyme n°%(id)s") % {"id": self.pk})
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs):
        self.search_name = fold_name(self.first_name, self.last_name)
        if kwargs.get("update_fields") is not None and (
            {"first_name", "last_name"} & set(kwargs["update_fields"])
        ):
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)


class AccessAction(models.TextChoices):
    RESIDENT_VIEW = "resident_view", _("Fiche usager consultée")
    RESIDENT_SEARCH = "resident_search", _("Recherche d'usagers")
    CASE_VIEW = "case_view", _("Dossier consulté")
    RESIDENT_EXPORT = "resident_export", _("Données d'un usager exportées")
    RESIDENT_ERASE = "resident_erase", _("Usager anonymisé à sa demande")
    REPORT_EXPORT = "report_export", _("Rapport exporté")


class AccessLogQuerySet(scoped_queryset("structure")):
    """Append-only: no update, no delete, except `purge_expired()` (the retention task)."""

    def update(self, **kwargs):
        raise TypeError("The access log is append-only.")

    def delete(self):
        raise TypeError("The access log is append-only: use purge_expired().")

    def purge_expired(self, *, before) -> int:
        """Delete the entries older than `before` (the only deletion allowed)."""
        deleted, _counts = models.QuerySet.delete(self.filter(at__lt=before))
        return deleted


class AccessLog(models.Model):
    """Who opened or exported what, when: ids only, never a name or a search term (only its
    length). Written by `mediation.audit.access_record`; append-only (save() refuses updates,
    delete() is refused; on PostgreSQL a trigger refuses UPDATE)."""

    at = models.DateTimeField(_("le"), default=timezone.now, editable=False)
    # No foreign-key constraint and no cascade: an entry outlives the account or structure it
    # names (rows are never updated, so SET_NULL is not possible either).
    user = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("personne"),
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("structure"),
    )
    action = models.CharField(_("action"), max_length=20, choices=AccessAction.choices)
    object_type = models.CharField(_("type d'objet"), max_length=30, blank=True)
    object_id = models.PositiveBigIntegerField(_("identifiant"), null=True, blank=True)
    term_length = models.PositiveSmallIntegerField(
        _("longueur de la recherche"), null=True, blank=True
    )

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("accès journalisé")
        verbose_name_plural = _("journal des accès")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["structure", "at"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The access log is append-only.")

    @property
    def is_listing(self) -> bool:
        """The residents list opened without a term (the residents seen last): a search
        without a term length (older entries have 0)."""
        return self.action == AccessAction.RESIDENT_SEARCH and not self.term_length

    @property
    def action_label(self) -> str:
        if self.is_listing:
            return _("Liste des usagers consultée")
        return self.get_action_display()


class RateCounter(models.Model):
    """One fixed-window rate-limit counter (mediation.ratelimit), when no Redis holds them:
    incremented by one INSERT … ON CONFLICT DO UPDATE … RETURNING, atomic on SQLite and
    PostgreSQL. The key is a hash: no address or phone number."""

    key = models.CharField(max_length=80, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("compteur de limite de débit")
        verbose_name_plural = _("compteurs de limite de débit")

    def __str__(self):
        return f"{self.key}: {self.count}"
