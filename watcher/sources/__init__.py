"""Sources: fetching a place watcher watches and turning its payload into items.

Each kind is one module exporting ``KIND`` (``base.SourceKind``: its name, its
typed options, its reader); ``catalog.KINDS`` lists them. Nothing here imports
the configuration: ``config`` validates each source's options through its kind.
"""
