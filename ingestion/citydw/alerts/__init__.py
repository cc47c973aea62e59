"""Alerts: telling department contacts and the data team, once, through the channels they read.

- :mod:`citydw.alerts.routes` — who gets an alert: a department's registry
  ``alerts:`` routes and the data team's from settings; secrets looked up
  only at the moment of sending.
- :mod:`citydw.alerts.send` — :func:`~citydw.alerts.send.send_alert`: Apprise,
  ``meta.alerts``, once per problem, month and recipient.
- :mod:`citydw.alerts.airflow_callbacks` — ``on_failure_callback`` for DAG tasks.

Nothing is imported here, so the Airflow callback module stays cheap to import.
"""
