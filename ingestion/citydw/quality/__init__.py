"""Data-quality operations: the monthly chase, quarantine follow-up, correction workbooks and the report.

- :mod:`~citydw.quality.expectations` — the rule pack's row rules as GX custom
  expectations (项目代码 with a real GB/T 2260 region, 统一社会信用代码, districts of the city);
- :mod:`~citydw.quality.checks` — its dataset rules, run by the pipeline after GX: cumulative
  figures never fall, month = change of cumulative, total row = sum of rows, 10⁴× unit slips,
  collapsing row counts (declared per dataset in the suite's ``meta.citydw_checks``);
- :mod:`~citydw.quality.regions` — the GB/T 2260 code table (package data) and project codes;
- :mod:`~citydw.quality.ledger` — working days, due dates and waivers in ``meta`` for the ledger marts;
- :mod:`~citydw.quality.cases` — correction cases, opened by quarantine or rejection, closed by a
  later accepted version;
- :mod:`~citydw.quality.workbooks` — ``corrections/<department>.xlsx``;
- :mod:`~citydw.quality.chase` — reminders, escalations and notices through :mod:`citydw.alerts`;
- :mod:`~citydw.quality.charts`, :mod:`~citydw.quality.datadocs`, :mod:`~citydw.quality.report` —
  ``reports/YYYY-MM/index.html`` with SVG charts and offline GX Data Docs (``citydw report``);
- :mod:`~citydw.quality.watch` — the daily watch of the delivery window;
- :mod:`~citydw.quality.runs` — which month or day a DAG run is about.
"""
