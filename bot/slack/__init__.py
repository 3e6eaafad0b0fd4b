"""The Slack side of Praxis: Bolt listeners, Block Kit, and the Slack ``Chat`` adapter.

It sits beside the Discord side (``bot/discord`` and ``cogs/``) over the same core and
database. Slack's text ids are turned into the integers the core uses by :mod:`.ids`.
"""
