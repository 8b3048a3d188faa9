"""Task monitoring like nq57: programmes, their tasks under the six clear principles, daily
progress, the leaders' overdue board and the ranking of agencies."""
