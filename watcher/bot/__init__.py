"""The Telegram bot: settings, commands and their wiring (delivery is in ``watcher.delivery``)."""
