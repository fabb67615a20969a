"""Data sources (挂接的数据来源): registration, the connection policy, credentials, column mapping and the readers
of 前置库, APIs and reported files."""
