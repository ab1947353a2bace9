"""Typed models; importing this package registers every table on `Base.metadata`."""

from app.models.accounts import (
    ApiToken,
    LoginAttempt,
    LoginSession,
    Organization,
    OrgKind,
    Role,
    User,
)
from app.models.audit import AuditEvent, AuditHead
from app.models.cases import Case, CaseStatus, Party, Policy, PolicyKind, Report, Vehicle
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.documents import Document
from app.models.jobs import Job, JobStatus

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Case",
    "CaseStatus",
    "Deadline",
    "DeadlineStatus",
    "Document",
    "Job",
    "JobStatus",
    "LoginAttempt",
    "LoginSession",
    "OrgKind",
    "Organization",
    "Party",
    "Policy",
    "PolicyKind",
    "Report",
    "Role",
    "User",
    "Vehicle",
]
