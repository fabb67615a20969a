"""Key management (密钥管理) across the platform: which keys the stored values of every app use, and rotation."""
