"""Test data for the accident-report parser."""
