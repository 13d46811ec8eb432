"""Risk elimination candidates (风险消除): the monthly list for the villages."""
