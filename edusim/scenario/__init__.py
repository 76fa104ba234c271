"""Training scenarios: YAML files of days, actions and expectations, replayed on the services."""
