"""Capacity planning: the Universal Scalability Law, the SLO search, and `bench plan` reports."""
