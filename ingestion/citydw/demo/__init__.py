"""The sample city's deliveries, generated from one simulated world.

``world`` holds the city's projects and how they evolve month by month;
one writer module per department (``drc`` …) renders that world as the
department's monthly files, messy the way real ones are, with defects on
demand; ``generate`` drops them where the registry says and writes the
manifest of what it put in (``manifest``). ``api_server`` serves the
generated JSON feeds of the API departments over HTTP. ``citydw demo
generate`` calls :func:`citydw.demo.generate.generate`.
"""
