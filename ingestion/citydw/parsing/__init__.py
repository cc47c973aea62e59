"""Turning a department's file into canonical rows: layout, values, units."""
