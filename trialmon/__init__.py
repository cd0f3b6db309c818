"""trialmon: monthly monitoring of Finland's municipal employment trials.

The shared core (settings, database access, schema, command line) lives here;
`etl/` writes the database, `indicators/` turns stored data into published
indicator tables, `dashboard/` only reads published tables.
"""

__version__ = "0.1.0"
