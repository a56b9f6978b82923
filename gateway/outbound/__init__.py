"""The outbound stage: canonical events -> messages for the EU systems, the deadline monitor and EES matching.

One stateful service (``gateway outbound``) on the state runtime, keyed by subject: it keeps each subject's SIS
alerts, Eurodac registrations, open decisions and deadline timers, and writes, in one Kafka transaction with its
input offsets, the outbox messages of each target (delivered by ``gateway deliver``), the events it derives (a
non-return when a period ends, a departure matched from an EES exit) and what it cannot place (review).
"""
