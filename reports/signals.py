"""Signals of the report workflow, for the apps that keep something derived from report statuses
(analytics keeps its aggregate current in the same transaction)."""

from django.dispatch import Signal

# Sent by reports.workflow after a report's new status is saved, inside the transition's
# transaction: kwargs `report` (saved, in its new status) and `from_status`.
status_changed = Signal()
