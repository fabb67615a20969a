"""The data plane: engines (DuckDB, Spark), versioned Delta tables, the transformation to the catalogue's types,
encryption of columns at rest over Arrow (encryption.py; which items are encrypted and the rotation of datasets stay
in datasets.encryption) and exports. A library with no Django models: it is handed streams, schemas and table
locations, and any app may use it (it knows nothing of sources, grants or users)."""
