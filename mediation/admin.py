from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
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


class MembershipInline(admin.TabularInline):
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
    list_display = ["name", "kind", "network", "slug"]
    list_filter = ["kind", "network"]
    search_fields = ["name", "slug", "siret"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "structure", "commune", "time_zone", "is_active"]
    list_filter = ["time_zone", "is_qpv", "is_rural", "is_active"]
    search_fields = ["name", "commune", "insee_code"]
    list_select_related = ["structure"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "structure", "role"]
    list_filter = ["role", "structure"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "structure"]


@admin.register(NetworkMembership)
class NetworkMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "network"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "network"]


@admin.register(Resident)
class ResidentAdmin(SimpleHistoryAdmin):
    # Operators see identities only where they must: no search on names or phones here.
    list_display = ["pk", "structure", "is_anonymous", "age_band", "created_at"]
    list_filter = ["is_anonymous", "structure"]
    list_select_related = ["structure"]
