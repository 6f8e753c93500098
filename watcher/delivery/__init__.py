"""Delivery: sending the alerts waiting in the outbox, to the console or to Telegram."""
