"""Notifications: a per-user inbox (消息) with unread counts, and e-mail through Django's mail backends."""
