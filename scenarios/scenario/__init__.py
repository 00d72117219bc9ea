"""What to run: the scenario file and the data it names.

- :mod:`~scenarios.scenario.schema`: what a scenario file may say (pydantic);
- :mod:`~scenarios.scenario.file`: reading one (every error names its key and line);
- :mod:`~scenarios.scenario.inputs`: reading the register, zones and network it names
  into :class:`~scenarios.scenario.inputs.RunInputs`, everything one run needs;
- :mod:`~scenarios.scenario.template`: writing scenario files people can read
  (``estate init``, and the ``scenario.yaml`` of every run folder).

Below everything else in :mod:`scenarios`: it imports only :mod:`scenarios.places`.
"""
