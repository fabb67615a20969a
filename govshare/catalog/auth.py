"""Auth declarations of the catalogue's routes."""

from govshare.accounts.auth import SIGNED_IN

CatalogRead = SIGNED_IN
CatalogWrite = SIGNED_IN
