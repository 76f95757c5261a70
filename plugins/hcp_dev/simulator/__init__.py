"""A deterministic stand-in for the rating system's sources, written in their native formats.

``world.build_world(seed, ...)`` makes agencies, platforms, staff, service items
and ratings; each channel module serves or writes them the way the real system
does (docs/contract.md §4-§6), quirks included.
"""
