from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from mediation.models import (
    Membership,
    Network,
    NetworkMembership,
    Place,
    Resident,
    Structure,
    User,
)

admin.site.site_header = _("Permanence — opérateurs de la plateforme")
admin.site.site_title = _("Permanence")
admin.site.index_title = _("Administration de la plateforme")


class TolerantAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks the submitted value up to show it again; a value
    that is not an id made that query fail (500) where the form should just say it is invalid.
    Such values are left out of the look-up; the form's error says the rest."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        kept = []
        for item in value:
            try:
                number = pk.to_python(item)
            except (ValidationError, TypeError, ValueError):
                continue
            if number is None or -(2**63) <= number < 2**63:
                kept.append(item)
        return super().optgroups(name, kept, attr)


class TolerantAutocompleteMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = TolerantAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(TolerantAutocompleteMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name", "phone"]}),
        (
            _("Droits"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "password1", "password2"],
            },
        ),
    ]


@admin.register(Network)
class NetworkAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Structure)
class StructureAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "networks_list", "slug"]
    list_filter = ["kind", "networks"]
    search_fields = ["name", "slug", "siret"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["networks"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("networks")

    @admin.display(description=_("réseaux"))
    def networks_list(self, obj):
        return obj.networks_display or "—"


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "structure", "commune", "time_zone", "is_active"]
    list_filter = ["time_zone", "is_qpv", "is_rural", "is_active"]
    search_fields = ["name", "commune", "insee_code"]
    list_select_related = ["structure"]
    # Its web addresses (site, Acceslibre page), typed without a scheme, are https ones.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(TolerantAutocompleteMixin, SimpleHistoryAdmin):
    list_display = ["user", "structure", "role"]
    list_filter = ["role", "structure"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "structure"]


@admin.register(NetworkMembership)
class NetworkMembershipAdmin(TolerantAutocompleteMixin, SimpleHistoryAdmin):
    list_display = ["user", "network"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "network"]


@admin.register(Resident)
class ResidentAdmin(SimpleHistoryAdmin):
    # Operators see identities only where they must: no search on names or phones here.
    list_display = ["pk", "structure", "is_anonymous", "age_band", "created_at"]
    list_filter = ["is_anonymous", "structure"]
    list_select_related = ["structure"]
