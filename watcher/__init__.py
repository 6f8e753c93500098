"""watcher: alerts Telegram subscribers when French public sources publish texts
about biometric surveillance.

The pipeline reads top to bottom in the package: ``sources`` fetch and parse into
``items``, ``matching`` decides which items concern a topic, ``store`` keeps them
with their pending ``alerts``, and ``delivery`` sends those to the console or to
Telegram.
"""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/watcher-bot/watcher"
USER_AGENT = f"watcher/{__version__} (+{HOMEPAGE}; legislative watch bot)"
