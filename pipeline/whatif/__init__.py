"""Trying candidate rules on a business date before they are put in force."""
