"""A run folder written and read back, and everything drawn from it.

- :mod:`~scenarios.outputs.writer`: the run folder's tables (``summary.json``, the CSVs,
  ``inputs/``, ``scenario.yaml``); :mod:`~scenarios.outputs.folders`: folders written
  whole or not at all, one command at a time;
- :mod:`~scenarios.outputs.runfolder`: a run folder read back, checked cell by cell;
- drawn from the folder alone (:mod:`~scenarios.outputs.presentation`): the map
  (:mod:`~scenarios.outputs.maps`, :mod:`~scenarios.outputs.mappage`,
  :mod:`~scenarios.outputs.leaflet_assets`), the access map
  (:mod:`~scenarios.outputs.access_map`), the GIS layers and GeoPackage
  (:mod:`~scenarios.outputs.layers`, :mod:`~scenarios.outputs.geopackage`,
  :mod:`~scenarios.outputs.gpkgstyle`), the report and workbook
  (:mod:`~scenarios.outputs.report`, :mod:`~scenarios.outputs.workbook`,
  :mod:`~scenarios.outputs.charts`), and the published copy
  (:mod:`~scenarios.outputs.publish`, :mod:`~scenarios.outputs.leakscan`).

Imports :mod:`scenarios.scenario` (what a run was given) and nothing that solves.
"""
