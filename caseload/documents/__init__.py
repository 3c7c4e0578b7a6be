"""Documents given to patients: the accounting of disclosures and the copy of their record,
as PDF and CSV."""
