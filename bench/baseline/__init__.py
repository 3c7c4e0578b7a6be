"""Stock Django REST framework over Caseload's models: the baseline `bench/run.py` compares with.

What a team gets from the DRF tutorial: ModelSerializer, PageNumberPagination (COUNT and
OFFSET), a token authentication class, no audit, no access policy beyond the caller's program.
"""
