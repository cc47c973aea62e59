"""Validation of parsed deliveries with Great Expectations suites carrying severities."""
