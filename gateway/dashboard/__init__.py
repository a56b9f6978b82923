"""The dead-letter dashboard (``gateway dashboard``): a web page for operators over the dead-letter topics.

Counts and a chart per connector by stage, error class and rule; the recent dead letters with their decoded headers
and a safe preview of their bytes; filters; a record's detail; and replay of chosen dead letters (operators only,
confirmed, CSRF-protected, audited on a Kafka topic) through the same code as ``gateway dlq replay``.

Modules: ``settings`` (typed configuration), ``auth`` (users, roles, proxy trust), ``security`` (headers, CSRF),
``preview`` and ``views`` (pure page models), ``audit`` (the audit record), ``backend`` (Kafka I/O), ``app`` (the
Starlette app).
"""
