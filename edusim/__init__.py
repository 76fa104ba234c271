"""The ``edusim`` command line: start the simulator, generate data, reset it."""
