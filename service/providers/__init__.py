"""Everything specific to one health-data provider lives below this package."""
