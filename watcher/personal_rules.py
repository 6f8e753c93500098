"""Subscribers' own words as the poller sees them: compiled once per change, shared.

``current()`` costs one small read of the rules' version (once per poll); the
rules are compiled again only when a chat changed its words, in this process or
another (the bot and ``watcher poll`` share the database).
"""

import threading

from watcher.personal import PersonalMatcher
from watcher.store.words import ChatWords


class PersonalRules:
    def __init__(self, words: ChatWords) -> None:
        self.words = words
        self._lock = threading.Lock()
        self._version: str | None = None
        self._matcher = PersonalMatcher({})

    def current(self) -> PersonalMatcher:
        version = self.words.version()
        with self._lock:
            if version != self._version:
                self._matcher = PersonalMatcher(self.words.every())
                self._version = version
            return self._matcher
