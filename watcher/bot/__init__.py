"""The Telegram side: settings, pacing, the outbox sender, commands and their wiring."""
