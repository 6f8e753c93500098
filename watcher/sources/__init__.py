"""Sources: fetching a place watcher watches and turning its payload into items.

``kinds`` declares each ``kind:`` of feeds.yml and its options (pure, used by the
configuration); ``registry`` maps a kind to the reader that polls it.
"""
