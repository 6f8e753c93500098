"""The delivery stage: the outbox's alerts rendered, paced and sent to each target.

``render`` (pure) -> ``deliverer`` (the loop) -> a target (``console``, ``telegram``,
registered in ``targets``) -> an ``outcome`` (pure) applied to the outbox.
"""
