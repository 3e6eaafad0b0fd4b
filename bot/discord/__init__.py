"""The Discord side of the runtime: everything outside ``cogs/`` that touches discord.py.

``bot.core`` and ``bot.storage`` never import discord; this package translates
between them and Discord (error replies, permission checks, embeds, posting).
"""
