"""Pages of identity that other apps add panels to (govshare.core.panels)."""

SYSTEM_DETAIL = "system_detail"
"""The information-system page (identity/systems/detail.html): its panels follow the credentials (sharing adds the
scenarios the system serves)."""
