"""Citizen support: tickets and their threads, routing to queues, SLAs and escalation,
reports of data uses, verification requests and the clean-up of eID accounts."""
