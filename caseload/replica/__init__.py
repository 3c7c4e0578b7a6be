"""The database engine of the read replica (`DATABASE_REPLICA_URL`): caseload/replica/base.py."""
