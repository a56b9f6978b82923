"""The dead-letter dashboard (``gateway dashboard``): a web page for operators over the dead-letter topics.

Counts and a chart per connector by stage, error class and rule; the recent dead letters with their decoded headers
and a safe preview of their bytes; filters; a record's detail; and replay of chosen dead letters (operators only,
confirmed, CSRF-protected, audited on a Kafka topic) with the messages ``gateway dlq replay`` sends. A page reads
what it shows, never a whole topic (the tail by offset, one offset, an incremental summary).

Modules: ``settings`` (typed configuration), ``auth`` (users, roles, proxy trust), ``ratelimit`` (sign-in rate
limit), ``security`` (headers, CSRF), ``preview``, ``views`` and ``paging`` (pure page models, offset paging),
``audit`` (the audit record), ``reading`` (reads by offset), ``summary`` (incremental counts), ``backend`` (Kafka
I/O), ``app`` (the Starlette app).
"""
