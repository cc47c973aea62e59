"""Superset, the laptop BI tool: its environment, its configuration, the server and the dashboards.

Superset runs in its own virtual environment, ``.venv-bi/`` (pinned by
``requirements/bi-constraints.txt``): its Flask, SQLAlchemy 1.4 and pandas
cannot share ``.venv/`` with Airflow's. citydw never imports Superset; it
runs Superset's commands in that environment and talks to the server over its
REST API, as any user would:

- :mod:`citydw.bi.environment` installs ``.venv-bi/``;
- :mod:`citydw.bi.config` writes ``superset_config.py`` and keeps the secrets;
- :mod:`citydw.bi.server` prepares the metadata, starts and stops the server;
- :mod:`citydw.bi.api` is the small REST client;
- :mod:`citydw.bi.dashboards` imports ``bi/`` and exports it back.
"""
