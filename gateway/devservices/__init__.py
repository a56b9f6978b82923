"""Local development services: the single-node broker, a schema registry, topic provisioning and the demo.

None of it is needed by a production deployment.
"""
