"""Sources: fetching a place watcher watches and turning its payload into items.

Each kind is one module exporting ``KIND`` (``base.SourceKind``: its name, its
French label, its typed options, its reader, the shape ``watcher probe``
recognises, the stream of a followed dossier); ``catalog.KINDS`` lists them.
Nothing here imports the configuration: ``config`` validates each source's
options through its kind, with feeds.yml's one vocabulary (``watcher.fields``).
"""
