"""The 42 CFR 2.32(a)(2) notice that accompanies every disclosure, on every channel: the
integration API and FHIR (a header), exports (a field), webhooks (a header)."""

PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
PART2_NOTICE_HEADER = "Caseload-Part2-Notice"
