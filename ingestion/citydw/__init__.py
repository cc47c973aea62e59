"""citydw: the city's monthly urban-rural construction data pipeline and warehouse."""

__version__ = "0.1.0"
