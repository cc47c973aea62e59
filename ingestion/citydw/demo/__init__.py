"""The sample city's deliveries, generated from one simulated world.

The world (what is true):

- ``world`` — the major projects and how they evolve month by month; every
  other part hangs off it (``World.part``) so the departments agree;
- ``places`` — district areas and streets, where everything is put;
- ``bonds`` — the province's special-bond tranches, the city's allocations,
  the other prefecture cities;
- ``facilities`` — schools, clinics, elderly care and parking lots;
- ``people`` — residents per street and residential communities;
- ``programmes`` — spatial plans, renovation, drainage zones, demolition.

The departments (what they deliver): one writer module per department —
``drc``, ``finance``, ``nrp``, ``housing``, ``sectors`` (transport and water),
``registers`` (education, health, civil affairs, urban management),
``expropriation``, ``stats`` — built on ``tables`` (a clerk's sheet as xlsx
or CSV) and ``messy`` (how clerks type values).

``generate`` asks each writer for each month (an ``orders.Order``), with the
year's defects planned by ``defects``, drops the files where the registry
says (API feeds under ``_api/`` for ``api_server`` to serve) and writes the
``manifest`` of what it put in. ``citydw demo generate`` calls
:func:`citydw.demo.generate.generate`.
"""
