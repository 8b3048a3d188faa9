"""Shared kernel: database, errors, audit log, i18n, logging, metrics, secrets."""
