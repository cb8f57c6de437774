"""The `aks` cluster kind: config.py, schema.py, cluster.py (the registry imports the
last two lazily)."""
