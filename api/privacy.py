"""The personal data of the API clients, declared to the core's registry
(`mediation/privacy.py`): none about residents; who created or revoked a client is a staff
account. Imported by `ApiConfig.ready()`."""

from api.models import ApiClient
from mediation.privacy import K, N, register_personal_data

register_personal_data(
    ApiClient,
    fields={
        "id": N,
        "uuid": N,
        "name": N,
        "structure": N,
        "network": N,
        "secret_hash": N,
        "created_by": K,
        "created_at": N,
        "revoked_at": N,
        "revoked_by": K,
        "last_used_at": N,
    },
)
