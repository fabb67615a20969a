"""`EncryptedTextField`: a text column stored as SM4-GCM ciphertext (govshare.core.crypto), plaintext in Python.

The associated data is the field's place, "<app>.<Model>.<field>", so a ciphertext copied from another field does
not decrypt. A model that moves to another app keeps its old place (`place="<old app>.<Model>.<field>"`): the
stored values were bound to it. The empty string is stored as itself (it tells nothing but "no value", and keeps
`bool()` checks working); None stays NULL. Equality lookups on the ciphertext cannot work (every encryption uses a
fresh nonce), so only `isnull` is allowed: a column that must be searchable keeps `equality_hash()` in a column
beside it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from govshare.core import crypto

__all__ = ["EncryptedTextField"]

_ALLOWED_LOOKUPS = frozenset({"isnull"})


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    description = "Text encrypted at rest (SM4-GCM)"

    def __init__(self, *args: Any, place: str = "", **kwargs: Any) -> None:
        self.place = place
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.place:
            kwargs["place"] = self.place
        return name, path, args, kwargs

    @property
    def associated_data(self) -> str:
        return self.place or f"{self.model._meta.label}.{self.name}"

    def from_db_value(self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt_text(value, self.associated_data)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or hasattr(value, "resolve_expression"):
            return value
        return crypto.encrypt_text(str(value), self.associated_data)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)
