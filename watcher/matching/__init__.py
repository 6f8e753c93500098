"""Matching: which topics a text concerns, and the words and excerpt that say why."""
