"""Reference simulation of the province's transcript gateway (Cổng tiếp nhận Học bạ số) and lookup portal.

An external system we do not own: it runs as its own process (``python -m sandbox.gateway serve``), with its
own database, plain threads (never eventlet) and run-time switchable faults, so that the sync service can be
tested against something that behaves — and misbehaves — like the real gateway.
"""
